/**
 * What the main thread and the workers share: the message shapes (all structured-cloneable) and
 * the layout of the control block, an `Int32Array` over a `SharedArrayBuffer` that carries the
 * per-step commands, the two barriers and the error flag (Atomics only, no messages per step).
 *
 * @module
 */
import type { ModelSpec } from "@wider/models";
import type { AdamOptions, SgdOptions } from "@wider/training";

/** A serialisable optimizer: `@wider/training`'s `sgd`, `adam` or `adamw` with its options. */
export type OptimizerSpec =
  | ({ readonly kind: "sgd" } & SgdOptions)
  | ({ readonly kind: "adam" } & AdamOptions)
  | ({ readonly kind: "adamw" } & AdamOptions);

/** A serialisable model: a `@wider/models` spec, or a tfjs-layers `model.toJSON()` (weights follow). */
export type ModelSource = { readonly spec: ModelSpec } | { readonly json: string | object };

/** The backend each worker starts. */
export type WorkerBackend = "cpu" | "wasm";

/** Main to worker. */
export type ToWorker =
  | {
      readonly type: "init";
      readonly index: number;
      readonly workers: number;
      readonly backend: WorkerBackend;
      readonly model: ModelSource;
      readonly optimizer: OptimizerSpec;
      readonly labelSmoothing: number;
    }
  | {
      readonly type: "run";
      /** The optimizer's step count; the weights and slots are in `data` at `layout.state`. */
      readonly count: number;
      readonly control: SharedArrayBuffer;
      readonly data: SharedArrayBuffer;
      readonly layout: Layout;
    }
  | { readonly type: "close" };

/** Worker to main. */
export type FromWorker =
  | {
      readonly type: "ready";
      readonly index: number;
      /** Every weight (trainable first, then the rest, e.g. BatchNorm statistics) in model order. */
      readonly names: string[];
      readonly shapes: number[][];
      readonly trainable: number;
      readonly slotNames: string[];
    }
  /** A run ended; `tensors` is the worker's `tf.memory().numTensors` after it (leak checks). */
  | { readonly type: "ran"; readonly index: number; readonly tensors: number }
  | { readonly type: "error"; readonly index: number; readonly message: string };

/** Offsets (in float32 elements) into the shared data buffer. */
export interface Layout {
  /** Values per weight, in `names` order. */
  readonly sizes: number[];
  /** Elements of one worker's segment: every weight (gradients of the trainable ones, the others' values). */
  readonly segment: number;
  /** `workers` segments start here. */
  readonly sums: number;
  /**
   * The batch inputs `[capacity, ...xShape]` (float32) of even and of odd generations: two
   * buffers, so that the main thread writes the next step's batch while the replicas train on
   * this one.
   */
  readonly x: readonly [number, number];
  /** The batch targets `[capacity, ...yShape]` (float32, cast to `yDtype` in the worker), the same way. */
  readonly y: readonly [number, number];
  /**
   * The shared state: every weight (the master copy, brought up to date every step by the
   * replicas, each writing its shard), then every optimizer slot of the trainable weights (written
   * on synced steps and at the end of a run), each in `names` order, flat.
   */
  readonly state: number;
  readonly capacity: number;
  readonly xShape: number[];
  readonly yShape: number[];
  readonly yDtype: "float32" | "int32";
  readonly slotNames: string[];
  /** Elements in all. */
  readonly total: number;
}

/**
 * Indices into the control `Int32Array`. A command is posted as a generation (`gen`, counting
 * from 1 in each run); its parameters sit in the slot of its parity (`cmd + (gen & 1)`, ...), so
 * the main thread can post generation `g + 1` while the replicas still run `g` (one step ahead,
 * never two: it posts `g + 2` only after `g` finished). It does so only after the steps whose
 * state it does not copy out (no hook reads the model there): the state it copies out after step
 * `g` is never overwritten by `g + 1`.
 */
export const C = {
  /** The latest generation posted by the main thread. */
  gen: 0,
  /** Arrivals at the gradient barrier (every worker's gradients are in its segment). */
  arrived: 1,
  /** The generation whose gradient barrier was released. */
  released: 2,
  /** Workers done with the command. */
  done: 3,
  /** The generation whose command every worker finished. */
  finished: 4,
  /** 0, or 1 + the index of the worker that failed (or the main thread's `workers + 1`). */
  error: 5,
  /** Optimizer step count after the last update (written with the slots). */
  count: 6,
  /** Arrivals at the weights barrier of a hashed step (every shard written, before the hash). */
  arrived2: 7,
  /** The generation whose weights barrier was released. */
  released2: 8,
  /** Per parity: the command ({@link Cmd}). */
  cmd: 9,
  /** Per parity: rows in the step's batch. */
  rows: 11,
  /**
   * Per parity: 0, the weights only; 1, the replicas also write the optimizer's slots (the main
   * thread copies the state out after the step, before it posts the next); 2, every worker also
   * hashes its weights.
   */
  sync: 13,
  /** Per parity, per worker (`2 * workers` entries): the hash of its weights (FNV-1a) after a hashed step. */
  hashes: 15,
} as const;

/** Commands. */
export const Cmd = { step: 1, end: 2 } as const;

/** The float64 view of the control buffer: per parity the rate, then per parity and worker the weighted losses. */
export const F = { lr: 0, losses: 2 } as const;

const ints = (workers: number) => C.hashes + 2 * workers;
const f64At = (workers: number) => Math.ceil((4 * ints(workers)) / 8) * 8;

/** The Int32 and Float64 views of the control block. */
export const controlViews = (buf: SharedArrayBuffer, workers: number) => ({
  i32: new Int32Array(buf, 0, ints(workers)),
  f64: new Float64Array(buf, f64At(workers), F.losses + 2 * workers),
});

/** Control block size with the Float64 part 8-aligned. */
export const controlSize = (workers: number): number =>
  f64At(workers) + 8 * (F.losses + 2 * workers);

/** FNV-1a over the bytes of float32 arrays, in order: the replica check. */
export const hashFloats = (arrays: readonly Float32Array[]): number => {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < bytes.length; i++) {
      h ^= bytes[i]!;
      h = Math.imul(h, 0x01000193);
    }
  }
  return h | 0;
};

/** The rows of worker `i` out of `workers` for a batch of `rows`: `[from, to)`. */
export const sliceOf = (i: number, workers: number, rows: number): [number, number] => [
  Math.floor((i * rows) / workers),
  Math.floor(((i + 1) * rows) / workers),
];

/**
 * The shard of worker `i` out of `workers` in a flat vector of `total` values, `[from, to)`:
 * contiguous, boundaries on multiples of 16 values (one 64-byte cache line) so that no two
 * replicas write the same line, the last one ending at `total`.
 */
export const shardOf = (i: number, workers: number, total: number): [number, number] => {
  const edge = (k: number) => (k >= workers ? total : Math.floor((k * total) / workers / 16) * 16);
  return [edge(i), edge(i + 1)];
};
