/**
 * `@wider/parallel/node`: the Node adapter of the {@link Transport}: replicas in `worker_threads`.
 *
 * @packageDocumentation
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Transport, WorkerHandle } from "./transport.js";

/** Options of {@link nodeTransport}. */
export interface NodeTransportOptions {
  /** The worker entry (default: this package's `nodeWorker.js`, or `.ts` under tsx when run from source). */
  readonly entry?: URL;
  /** `execArgv` for the workers. */
  readonly execArgv?: readonly string[];
}

/** The worker entry next to this module: `nodeWorker.js` when built, `nodeWorker.ts` from source. */
const defaultEntry = (): { entry: URL; ts: boolean } => {
  const js = new URL("./nodeWorker.js", import.meta.url);
  if (existsSync(fileURLToPath(js))) return { entry: js, ts: false };
  return { entry: new URL("./nodeWorker.ts", import.meta.url), ts: true };
};

/**
 * Replicas as `worker_threads` workers; `cores` is `os.availableParallelism()`. A worker that
 * throws at top level, runs out of memory or exits (killed, `process.exit`) is reported once
 * through `onFailure`.
 *
 * @example
 * const runner = await parallelRunner({ transport: nodeTransport(), model, optimizer });
 */
export const nodeTransport = (options: NodeTransportOptions = {}): Transport => ({
  cores: availableParallelism(),
  spawn: (_index, name): WorkerHandle => {
    const d = defaultEntry();
    const entry = options.entry ?? d.entry;
    const ts = options.entry === undefined ? d.ts : entry.pathname.endsWith(".ts");
    // From the TypeScript sources (tests, benches), a bootstrap registers tsx in the thread first:
    // `execArgv: ["--import", "tsx"]` does not reach a worker's module loader on Node 20.
    const worker = ts
      ? new Worker(new URL("./tsWorker.mjs", import.meta.url), {
          name,
          workerData: { entry: entry.href },
          ...(options.execArgv === undefined ? {} : { execArgv: [...options.execArgv] }),
        })
      : new Worker(entry, {
          name,
          ...(options.execArgv === undefined ? {} : { execArgv: [...options.execArgv] }),
        });
    let failed: ((reason: string) => void) | undefined;
    let terminating = false;
    let reported = false;
    const report = (reason: string) => {
      if (reported || terminating) return;
      reported = true;
      failed?.(reason);
    };
    worker.on("error", (e) => report(`crashed: ${e instanceof Error ? e.message : String(e)}`));
    worker.on("exit", (code) => report(`exited (code ${code}) while the run needed it`));
    worker.on("messageerror", (e) => report(`sent a message that could not be read: ${String(e)}`));
    return {
      postMessage: (m) => worker.postMessage(m),
      onMessage: (f) => {
        worker.on("message", f);
      },
      onFailure: (f) => {
        failed = f;
      },
      terminate: async () => {
        terminating = true;
        await worker.terminate();
      },
    };
  },
});

export type { Transport, WorkerEndpoint, WorkerHandle } from "./transport.js";
