/**
 * The transport between the main thread and the replicas: the smallest interface that both Node's
 * `worker_threads` and the browser's Web Workers satisfy. The core (`runner.ts`, `worker.ts`)
 * uses nothing else, so no Node-only API appears in it; `node.ts` is the `worker_threads` adapter.
 *
 * @module
 */

/** The main thread's handle on one worker. */
export interface WorkerHandle {
  /** Sends a structured-cloneable message (a `SharedArrayBuffer` is shared, not copied). */
  readonly postMessage: (message: unknown) => void;
  /** Registers the one message listener. */
  readonly onMessage: (listener: (message: unknown) => void) => void;
  /** Registers the one failure listener: an uncaught error or the worker's exit (killed, crashed). */
  readonly onFailure: (listener: (reason: string) => void) => void;
  /** Stops the worker (idempotent). */
  readonly terminate: () => Promise<void>;
}

/** Starts workers that run {@link serveWorker}. */
export interface Transport {
  /** The default number of workers (e.g. the machine's cores). */
  readonly cores?: number;
  /** Starts worker `index` (0-based); `name` is for logs and error messages. */
  readonly spawn: (index: number, name: string) => WorkerHandle;
}

/** The worker's side: how {@link serveWorker} talks to the main thread. */
export interface WorkerEndpoint {
  readonly postMessage: (message: unknown) => void;
  readonly onMessage: (listener: (message: unknown) => void) => void;
}
