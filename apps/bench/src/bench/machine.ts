/**
 * What two threads of this machine get out of it together, for the workers section: the rate of
 * a memory-bound loop (reading a 64 MB array, larger than any cache) and of an arithmetic loop (a
 * 4 KB array, in L1) on 1 thread and on 2 threads at once. Where the memory-bound rate does not
 * grow with the second thread, the cores share one memory bandwidth, and any training step with
 * memory-bound parts cannot scale by 2. Plain JavaScript in `worker_threads` (the code is
 * evaluated, so it runs the same from the TypeScript sources and from `dist/`).
 *
 * @module
 */
import { Worker } from "node:worker_threads";

/** A probe: which loop, and how long each thread runs it. */
export type ProbeKind = "stream" | "arithmetic";

/** One probe's rates: 1 thread alone, then 2 threads at once (their sum). */
export interface MachineProbe {
  readonly kind: ProbeKind;
  /** GB/s read (stream) or GFLOP/s (arithmetic) of one thread alone. */
  readonly one: number;
  /** The sum of two threads' rates, run at the same time. */
  readonly two: number;
  readonly unit: "GB/s" | "GFLOP/s";
}

// The thread's code: builds its data, warms up, reports ready, waits for the start flag, then
// runs its loop for `ms` milliseconds and reports its rate (units per microsecond = G per second).
const code = `
const { parentPort, workerData } = require("node:worker_threads");
const { kind, ms, flag } = workerData;
const i32 = new Int32Array(flag);
let work;
if (kind === "stream") {
  const a = new Float32Array(16 * 1024 * 1024).fill(1);
  work = () => {
    let s = 0;
    for (let i = 0; i < a.length; i += 4) s += a[i] + a[i + 1] + a[i + 2] + a[i + 3];
    return [s, a.length * 4];
  };
} else {
  const a = new Float64Array(512).fill(1.0001);
  work = () => {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let r = 0; r < 4000; r++)
      for (let i = 0; i < 512; i += 4) {
        s0 += a[i] * a[i]; s1 += a[i + 1] * a[i + 1]; s2 += a[i + 2] * a[i + 2]; s3 += a[i + 3] * a[i + 3];
      }
    return [s0 + s1 + s2 + s3, 4000 * 512 * 2];
  };
}
work();
parentPort.postMessage({ ready: true });
Atomics.wait(i32, 0, 0);
const t0 = performance.now();
let units = 0, sink = 0;
while (performance.now() - t0 < ms) { const [s, u] = work(); sink += s; units += u; }
parentPort.postMessage({ rate: units / ((performance.now() - t0) * 1e6), sink });
`;

/** Runs the probe on `threads` threads at once; resolves with the sum of their rates. */
const runThreads = async (kind: ProbeKind, threads: number, ms: number): Promise<number> => {
  const flag = new SharedArrayBuffer(4);
  const workers = Array.from(
    { length: threads },
    () => new Worker(code, { eval: true, execArgv: [], workerData: { kind, ms, flag } }),
  );
  try {
    const rates = workers.map(
      (w) =>
        new Promise<number>((resolve, reject) => {
          w.on("message", (m: { ready?: boolean; rate?: number }) => {
            if (m.rate !== undefined) resolve(m.rate);
          });
          w.on("error", reject);
        }),
    );
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.on("message", (m: { ready?: boolean }) => {
              if (m.ready === true) resolve();
            });
            w.on("error", reject);
          }),
      ),
    );
    const i32 = new Int32Array(flag);
    Atomics.store(i32, 0, 1);
    Atomics.notify(i32, 0);
    return (await Promise.all(rates)).reduce((a, b) => a + b, 0);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
};

/**
 * Measures `kind` on 1 thread, then on 2 threads at once, each running for `ms` milliseconds.
 *
 * @example
 * const p = await probeMachine("stream", 1500); // p.two / p.one ≈ 1 where the cores share one memory bandwidth
 */
export const probeMachine = async (kind: ProbeKind, ms: number): Promise<MachineProbe> => {
  const one = await runThreads(kind, 1, ms);
  const two = await runThreads(kind, 2, ms);
  return { kind, one, two, unit: kind === "stream" ? "GB/s" : "GFLOP/s" };
};
