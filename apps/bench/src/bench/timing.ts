/**
 * Timing one operation with tinybench: one `Bench` per operation, so the warm-up and the time
 * budget are per operation, and the task function is `async` so tinybench does not call it once
 * more to probe whether it is asynchronous (a costly probe for a cpu CNN training step).
 *
 * @module
 */
import { Bench } from "tinybench";

/** How long to measure: at least `minRuns` runs and `seconds` of task time, after `warmupRuns`. */
export interface TimingOptions {
  readonly seconds: number;
  readonly minRuns: number;
  readonly warmupRuns: number;
}

/** Mean milliseconds per run, the number of timed runs and tinybench's relative margin of error (%). */
export interface Timing {
  readonly meanMs: number;
  readonly runs: number;
  readonly rme: number;
}

/**
 * Times `fn` with tinybench; throws if `fn` throws (a broken benchmark must not print a figure).
 *
 * @example
 * const t = await timeOperation("step", async () => step(), { seconds: 5, minRuns: 3, warmupRuns: 2 });
 */
export const timeOperation = async (
  name: string,
  fn: () => Promise<void> | void,
  options: TimingOptions,
): Promise<Timing> => {
  const bench = new Bench({
    name,
    time: options.seconds * 1000,
    iterations: options.minRuns,
    warmup: options.warmupRuns > 0,
    warmupIterations: options.warmupRuns,
    warmupTime: 0,
    throws: true,
  });
  bench.add(name, async () => {
    await fn();
  });
  await bench.run();
  const result = bench.tasks[0]?.result;
  if (result === undefined || result.error !== undefined || result.latency === undefined) {
    throw new Error(`benchmark "${name}" produced no result`);
  }
  return {
    meanMs: result.latency.mean,
    runs: result.latency.samples.length,
    rme: result.latency.rme,
  };
};
