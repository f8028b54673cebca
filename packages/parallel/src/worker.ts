/**
 * The replica: what every worker runs. It starts its own TensorFlow.js backend, builds the model
 * from a serialisable source, then, per step, computes the gradients of its slice of the batch,
 * writes them into its segment of the shared buffer, waits at an `Atomics` barrier, sums all
 * segments in worker order (so every replica computes the same bits) and applies the same
 * `@wider/training` optimizer update. No Node-only API: it runs in a `worker_threads` worker or
 * a Web Worker (blocking `Atomics.wait` is allowed in both).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { raise } from "@wider/errors";
import { buildModel } from "@wider/models";
import {
  adam,
  adamw,
  applyUpdates,
  type Loss,
  type Optimizer,
  sgd,
  softmaxCrossEntropy,
} from "@wider/training";
import { fail, isParallelError } from "./errors.js";
import {
  C,
  Cmd,
  controlViews,
  F,
  type FromWorker,
  hashFloats,
  type Layout,
  type OptimizerSpec,
  shardOf,
  sliceOf,
  type ToWorker,
  type WorkerBackend,
} from "./protocol.js";
import type { WorkerEndpoint } from "./transport.js";

/**
 * A tensor's values without the copy `dataSync()` makes on the `wasm` backend: a view of the
 * backend's heap (its `typedArrayFromHeap`), valid until the backend next allocates, so read it
 * at once; elsewhere `dataSync()` (the `cpu` backend returns its own array). Per-step copies of
 * every gradient would allocate and free megabytes in every replica, which threads of one process
 * pay for together (one allocator, one set of page tables).
 */
export const valuesOf = (t: tf.Tensor): Float32Array => {
  const backend = tf.backend() as unknown as {
    typedArrayFromHeap?: (info: tf.TensorInfo) => Float32Array;
  };
  if (t.dtype === "float32" && typeof backend.typedArrayFromHeap === "function")
    return backend.typedArrayFromHeap(t);
  return t.dataSync() as Float32Array;
};

/**
 * A float32 tensor holding a copy of `view` (values in shared memory, which change every step).
 * The `wasm` backend copies what it is given into its heap, so the view goes in as it is (no
 * allocation per step); other backends may keep the array they are given (the `cpu` backend
 * does), so they get a copy.
 */
export const tensorFrom = (view: Float32Array, shape: readonly number[]): tf.Tensor =>
  tf.tensor(tf.getBackend() === "wasm" ? view : view.slice(), [...shape], "float32");

/** Builds the `@wider/training` optimizer a spec names. */
export const buildOptimizer = (spec: OptimizerSpec): Optimizer => {
  const { kind, ...options } = spec;
  if (kind === "sgd") return sgd(options);
  if (kind === "adam") return adam(options);
  if (kind === "adamw") return adamw(options);
  return fail(
    "config",
    `@wider/parallel: optimizer kind ${JSON.stringify(kind)} is unknown; use "sgd", "adam" or "adamw"`,
    { path: "optimizer.kind", value: kind, fix: 'use "sgd", "adam" or "adamw"' },
  );
};

/** Starts the backend a worker trains on. */
const startBackend = async (backend: WorkerBackend): Promise<void> => {
  if (backend === "wasm") {
    const { initWasmTraining } = await import("@wider/backend");
    await initWasmTraining();
    return;
  }
  if (!(await tf.setBackend(backend)))
    fail("unsupported", `backend "${backend}" did not start`, { value: backend });
  await tf.ready();
};

/** Thrown in the replicas that were waiting when another one failed; not reported again. */
/** What a replica throws to leave a step another replica failed (not reported again). */
const ANOTHER_FAILED = "another replica failed";
const aborted = (): never => fail("worker", ANOTHER_FAILED);

interface Replica {
  readonly index: number;
  readonly workers: number;
  readonly model: tf.LayersModel;
  readonly optimizer: Optimizer;
  readonly loss: Loss;
  /** Trainable variables first, then the others (BatchNorm statistics), keyed by originalName. */
  readonly names: string[];
  readonly vars: tf.LayerVariable[];
  readonly trainable: number;
}

/** Waits until `i32[at] >= value` (a generation reached), waking every 50 ms to check the error flag. */
const waitAtLeast = (i32: Int32Array, at: number, value: number): void => {
  for (;;) {
    const now = Atomics.load(i32, at);
    if (now >= value) return;
    if (Atomics.load(i32, C.error) !== 0) aborted();
    Atomics.wait(i32, at, now, 50);
  }
};

/** Waits until `i32[at] === value` (the barrier's release of generation `value`). */
const waitFor = (i32: Int32Array, at: number, value: number): void => {
  for (;;) {
    const now = Atomics.load(i32, at);
    if (now === value) return;
    if (Atomics.load(i32, C.error) !== 0) aborted();
    Atomics.wait(i32, at, now, 50);
  }
};

/** Arrives at a barrier (`arrived` counts, `released` takes `gen` when the last one arrives). */
const barrier = (
  i32: Int32Array,
  arrived: number,
  released: number,
  gen: number,
  workers: number,
): void => {
  if (Atomics.add(i32, arrived, 1) + 1 === workers) {
    Atomics.store(i32, arrived, 0);
    Atomics.store(i32, released, gen);
    Atomics.notify(i32, released);
  } else waitFor(i32, released, gen);
};

/**
 * The shared-memory step loop of one run; returns at `Cmd.end`. Per step (generation `g`, its
 * batch and parameters in the buffers of parity `g & 1`, which the main thread may have posted
 * while this replica was still on `g - 1`):
 * 1. the gradients of this replica's slice of the batch (scaled by its share of the rows) into
 *    its segment, and the non-trainable weights (BatchNorm statistics) the forward pass left,
 *    scaled the same way;
 * 2. barrier;
 * 3. for its shard of the flat weights only (`shardOf`; a reduce-scatter): the segments summed
 *    in worker order, the optimizer's update of the trainable part from the master copy of the
 *    weights in shared memory, the result written back there; the summed non-trainable values
 *    written as they are;
 * 4. barrier (this one tells the main thread the step is done);
 * 5. every weight read back from shared memory into this replica's variables (an all-gather), so
 *    the replicas hold the same bits by construction; hashed steps check that they do.
 * The optimizer's slots live only with their shard's owner (written to shared memory on synced
 * steps and at the end of the run). Elementwise optimizers give the same bits on a flat shard as
 * per weight, so the result is the one every replica computing the whole update would give.
 */
const runLoop = (
  r: Replica,
  count0: number,
  control: SharedArrayBuffer,
  data: SharedArrayBuffer,
  layout: Layout,
): void => {
  const { i32, f64 } = controlViews(control, r.workers);
  const f32 = new Float32Array(data);
  const xPer = layout.xShape.reduce((a, b) => a * b, 1);
  const yPer = layout.yShape.reduce((a, b) => a * b, 1);
  const offsets: number[] = [];
  let o = 0;
  for (const s of layout.sizes) {
    offsets.push(o);
    o += s;
  }
  const total = o;
  const trainTotal = layout.sizes.slice(0, r.trainable).reduce((a, b) => a + b, 0);
  const mine = layout.sums + r.index * layout.segment;
  const base = layout.state;
  const slotAt = (j: number) => base + total + j * trainTotal;
  // This replica's shard: its trainable part [lo, tHi), its non-trainable part [uLo, hi).
  const [lo, hi] = shardOf(r.index, r.workers, total);
  const tHi = Math.min(hi, trainTotal);
  const uLo = Math.max(lo, trainTotal);
  const nT = Math.max(0, tHi - lo);
  const flat = (at: number, n: number) => tensorFrom(f32.subarray(at, at + n), [n]);
  const loadWeights = () => {
    r.vars.forEach((v, k) => {
      const t = tensorFrom(
        f32.subarray(base + offsets[k]!, base + offsets[k]! + layout.sizes[k]!),
        v.shape as number[],
      );
      v.write(t);
      t.dispose();
    });
  };
  loadWeights();
  let count = count0;
  let slots: Record<string, tf.Tensor> = {};
  if (nT > 0)
    layout.slotNames.forEach((s, j) => {
      slots[s] = flat(slotAt(j) + lo, nT);
    });
  /** This shard's optimizer slots (and, from worker 0, the step count) into the shared state. */
  const writeSlots = () => {
    layout.slotNames.forEach((s, j) => {
      const t = slots[s];
      if (t !== undefined) f32.set(valuesOf(t), slotAt(j) + lo);
    });
    if (r.index === 0) Atomics.store(i32, C.count, count);
  };
  try {
    // A fresh control block per run: generations count from 1.
    for (let gen = 1; ; gen++) {
      waitAtLeast(i32, C.gen, gen);
      const p = gen & 1;
      if (Atomics.load(i32, C.cmd + p) === Cmd.end) {
        writeSlots();
        return;
      }
      const rows = Atomics.load(i32, C.rows + p);
      const sync = Atomics.load(i32, C.sync + p);
      const lr = f64[F.lr + p]!;
      const [from, to] = sliceOf(r.index, r.workers, rows);
      const n = to - from;
      const share = n / rows;
      const xAt = layout.x[p]!;
      const yAt = layout.y[p]!;
      // 1. Gradients of this slice, scaled by its share of the batch, into this worker's segment.
      tf.tidy(() => {
        const x = tensorFrom(f32.subarray(xAt + from * xPer, xAt + to * xPer), [
          n,
          ...layout.xShape,
        ]);
        const yv = f32.subarray(yAt + from * yPer, yAt + to * yPer);
        const y = tf.tensor(layout.yDtype === "int32" ? Int32Array.from(yv) : yv, [
          n,
          ...layout.yShape,
        ]);
        const trainVars = r.vars.slice(0, r.trainable).map((v) => v.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(
          () => tf.mul(r.loss(r.model.apply(x, { training: true }) as tf.Tensor, y), share),
          trainVars,
        );
        f64[F.losses + p * r.workers + r.index] = value.dataSync()[0]!;
        trainVars.forEach((v, k) => {
          f32.set(valuesOf(grads[v.name]!), mine + offsets[k]!);
        });
        for (let k = r.trainable; k < r.vars.length; k++) {
          const vals = valuesOf(r.vars[k]!.read());
          const at = mine + offsets[k]!;
          for (let i = 0; i < vals.length; i++) f32[at + i] = vals[i]! * share;
        }
      });
      // 2. Barrier: every segment is written.
      barrier(i32, C.arrived, C.released, gen, r.workers);
      // 3. This shard: sum the segments in worker order, update, write back.
      if (hi > lo) {
        const sum = tf.tidy(() => {
          let acc = flat(layout.sums + lo, hi - lo);
          for (let w = 1; w < r.workers; w++)
            acc = tf.add(acc, flat(layout.sums + w * layout.segment + lo, hi - lo));
          return acc;
        });
        try {
          if (nT > 0) {
            const grad = nT === hi - lo ? sum : tf.slice(sum, 0, nT);
            const weights = { flat: flat(base + lo, nT) };
            try {
              const { updates, state } = r.optimizer.update(
                { flat: grad },
                {
                  count,
                  slots: Object.fromEntries(
                    Object.entries(slots).map(([s, t]) => [s, { flat: t }]),
                  ),
                },
                weights,
                lr,
              );
              count = state.count;
              slots = Object.fromEntries(
                Object.entries(state.slots).map(([s, ws]) => [s, ws.flat!]),
              );
              const fresh = applyUpdates(weights, updates);
              tf.dispose(Object.values(updates));
              f32.set(valuesOf(fresh.flat!), base + lo);
              tf.dispose(Object.values(fresh));
            } finally {
              tf.dispose(weights.flat);
              if (grad !== sum) grad.dispose();
            }
          } else count += 1;
          if (hi > uLo) f32.set(valuesOf(sum).subarray(uLo - lo), base + uLo);
        } finally {
          sum.dispose();
        }
      } else count += 1;
      if (sync >= 1) writeSlots();
      // 4. Barrier: the weights (and, synced, the slots) are whole; it tells the main thread,
      // except on a hashed step, whose release waits for the hashes.
      if (sync >= 2) barrier(i32, C.arrived2, C.released2, gen, r.workers);
      else barrier(i32, C.done, C.finished, gen, r.workers);
      // 5. Every weight from shared memory into this replica's variables.
      loadWeights();
      if (sync >= 2) {
        Atomics.store(
          i32,
          C.hashes + p * r.workers + r.index,
          hashFloats(r.vars.map((v) => v.read().dataSync() as Float32Array)),
        );
        barrier(i32, C.done, C.finished, gen, r.workers);
      }
    }
  } finally {
    tf.dispose(Object.values(slots));
  }
};

/**
 * Serves one replica over `endpoint` until a `close` message. Call it in a worker's entry
 * (`@wider/parallel/node`'s worker file does, through `worker_threads`' `parentPort`; in a
 * browser, a Web Worker module calls it with `self`).
 *
 * @example
 * // worker.js of a Web Worker
 * serveWorker({ postMessage: (m) => self.postMessage(m), onMessage: (f) => { self.onmessage = (e) => f(e.data); } });
 */
export const serveWorker = (endpoint: WorkerEndpoint): void => {
  let replica: Replica | undefined;
  let index = -1;
  const reply = (m: FromWorker) => endpoint.postMessage(m);
  const handle = async (msg: ToWorker): Promise<void> => {
    if (msg.type === "init") {
      index = msg.index;
      await startBackend(msg.backend);
      let model: tf.LayersModel;
      if ("spec" in msg.model) {
        const built = buildModel(msg.model.spec);
        if (built._tag === "Left") raise(built.left);
        model = built.right;
      } else {
        const json =
          typeof msg.model.json === "string" ? JSON.parse(msg.model.json) : msg.model.json;
        // modelFromJSON takes a `ModelAndWeightsConfig` or a bare topology: `toJSON()` gives either.
        model = await tf.models.modelFromJSON(
          json as Parameters<typeof tf.models.modelFromJSON>[0],
        );
      }
      const vars = [...model.trainableWeights, ...model.nonTrainableWeights];
      const names = vars.map((v) => v.originalName);
      if (new Set(names).size !== names.length)
        fail("config", "two variables share a name; give the layers unique names");
      const optimizer = buildOptimizer(msg.optimizer);
      const probe = optimizer.init(
        Object.fromEntries(model.trainableWeights.map((v) => [v.originalName, v.read()])),
      );
      const slotNames = Object.keys(probe.slots);
      tf.dispose(Object.values(probe.slots).flatMap((s) => Object.values(s)));
      replica = {
        index,
        workers: msg.workers,
        model,
        optimizer,
        loss: softmaxCrossEntropy({ labelSmoothing: msg.labelSmoothing }),
        names,
        vars,
        trainable: model.trainableWeights.length,
      };
      reply({
        type: "ready",
        index,
        names,
        shapes: vars.map((v) => v.shape as number[]),
        trainable: replica.trainable,
        slotNames,
      });
      return;
    }
    if (msg.type === "run") {
      const r = replica;
      if (r === undefined) return fail("worker", "run before init");
      runLoop(r, msg.count, msg.control, msg.data, msg.layout);
      reply({ type: "ran", index, tensors: tf.memory().numTensors });
      return;
    }
    if (msg.type === "close") {
      replica?.model.dispose();
      replica = undefined;
    }
  };
  endpoint.onMessage((m) => {
    handle(m as ToWorker).catch((e: unknown) => {
      if (isParallelError(e) && e.message === ANOTHER_FAILED) return;
      const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
      const run = m as ToWorker;
      if (run.type === "run") {
        const { i32 } = controlViews(run.control, replica?.workers ?? 1);
        Atomics.compareExchange(i32, C.error, 0, index + 1);
        for (const at of [C.gen, C.released, C.released2, C.finished]) Atomics.notify(i32, at);
      }
      reply({ type: "error", index, message });
    });
  });
};
