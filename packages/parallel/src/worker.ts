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
  type OptState,
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
  type PlainWeights,
  sliceOf,
  type ToWorker,
  type WorkerBackend,
} from "./protocol.js";
import type { WorkerEndpoint } from "./transport.js";

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

const toTensors = (w: PlainWeights): Record<string, tf.Tensor> =>
  Object.fromEntries(Object.entries(w).map(([k, v]) => [k, tf.tensor(v.values, v.shape)]));

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

/** Waits until `i32[at] !== value`, waking every 50 ms to check the error flag. */
const waitChange = (i32: Int32Array, at: number, value: number): void => {
  while (Atomics.load(i32, at) === value) {
    if (Atomics.load(i32, C.error) !== 0) aborted();
    Atomics.wait(i32, at, value, 50);
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

/** The shared-memory step loop of one run; returns at `Cmd.end`. */
const runLoop = (
  r: Replica,
  state0: OptState,
  control: SharedArrayBuffer,
  data: SharedArrayBuffer,
  layout: Layout,
): OptState => {
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
  const mine = layout.sums + r.index * layout.segment;
  let state = state0;
  // A fresh control block per run: generation 0 is "no command yet" (the main thread may have
  // bumped it before this worker got here).
  let gen = 0;
  for (;;) {
    waitChange(i32, C.gen, gen);
    gen = Atomics.load(i32, C.gen);
    if (Atomics.load(i32, C.cmd) === Cmd.end) return state;
    const rows = Atomics.load(i32, C.rows);
    const lr = f64[F.lr]!;
    const [lo, hi] = sliceOf(r.index, r.workers, rows);
    const n = hi - lo;
    const share = n / rows;
    // 1. Gradients of this slice, scaled by its share of the batch, into this worker's segment.
    tf.tidy(() => {
      const x = tf.tensor(f32.subarray(layout.x + lo * xPer, layout.x + hi * xPer), [
        n,
        ...layout.xShape,
      ]);
      const yv = f32.subarray(layout.y + lo * yPer, layout.y + hi * yPer);
      const y = tf.tensor(layout.yDtype === "int32" ? Int32Array.from(yv) : yv, [
        n,
        ...layout.yShape,
      ]);
      const trainVars = r.vars.slice(0, r.trainable).map((v) => v.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(
        () => tf.mul(r.loss(r.model.apply(x, { training: true }) as tf.Tensor, y), share),
        trainVars,
      );
      f64[F.losses + r.index] = value.dataSync()[0]!;
      trainVars.forEach((v, k) => {
        f32.set(grads[v.name]!.dataSync() as Float32Array, mine + offsets[k]!);
      });
      for (let k = r.trainable; k < r.vars.length; k++) {
        const vals = r.vars[k]!.read().dataSync() as Float32Array;
        const at = mine + offsets[k]!;
        for (let i = 0; i < vals.length; i++) f32[at + i] = vals[i]! * share;
      }
    });
    // 2. Barrier: every segment is written.
    if (Atomics.add(i32, C.arrived, 1) + 1 === r.workers) {
      Atomics.store(i32, C.arrived, 0);
      Atomics.store(i32, C.released, gen);
      Atomics.notify(i32, C.released);
    } else waitFor(i32, C.released, gen);
    // 3. Sum the segments in worker order (the same bits in every replica), update, assign.
    const summed: Record<string, tf.Tensor> = {};
    r.vars.forEach((v, k) => {
      const size = layout.sizes[k]!;
      const out = new Float32Array(size);
      for (let w = 0; w < r.workers; w++) {
        const at = layout.sums + w * layout.segment + offsets[k]!;
        for (let i = 0; i < size; i++) out[i]! += f32[at + i]!;
      }
      summed[r.names[k]!] = tf.tensor(out, v.shape as number[]);
    });
    try {
      const grads = Object.fromEntries(r.names.slice(0, r.trainable).map((k) => [k, summed[k]!]));
      const weights = Object.fromEntries(
        r.names.slice(0, r.trainable).map((k, i) => [k, r.vars[i]!.read()]),
      );
      const { updates, state: next } = r.optimizer.update(grads, state, weights, lr);
      state = next;
      const fresh = applyUpdates(weights, updates);
      tf.dispose(Object.values(updates));
      r.names.slice(0, r.trainable).forEach((k, i) => {
        r.vars[i]!.write(fresh[k]!);
      });
      tf.dispose(Object.values(fresh));
      for (let k = r.trainable; k < r.vars.length; k++) r.vars[k]!.write(summed[r.names[k]!]!);
    } finally {
      tf.dispose(Object.values(summed));
    }
    // 4. Optional: worker 0 writes the state for the main thread; everyone hashes its weights.
    const sync = Atomics.load(i32, C.sync);
    if (sync >= 1 && r.index === 0) {
      let at = layout.state;
      for (const v of r.vars) {
        const vals = v.read().dataSync() as Float32Array;
        f32.set(vals, at);
        at += vals.length;
      }
      for (const s of layout.slotNames) {
        for (const k of r.names.slice(0, r.trainable)) {
          const vals = state.slots[s]![k]!.dataSync() as Float32Array;
          f32.set(vals, at);
          at += vals.length;
        }
      }
      Atomics.store(i32, C.count, state.count);
    }
    if (sync >= 2)
      Atomics.store(
        i32,
        C.hashes + r.index,
        hashFloats(r.vars.map((v) => v.read().dataSync() as Float32Array)),
      );
    // 5. Done barrier: the main thread waits for `finished === gen`.
    if (Atomics.add(i32, C.done, 1) + 1 === r.workers) {
      Atomics.store(i32, C.done, 0);
      Atomics.store(i32, C.finished, gen);
      Atomics.notify(i32, C.finished);
    } else waitFor(i32, C.finished, gen);
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
      const w = toTensors(msg.weights);
      try {
        r.names.forEach((k, i) => {
          r.vars[i]!.write(w[k]!);
        });
      } finally {
        tf.dispose(Object.values(w));
      }
      const state: OptState = {
        count: msg.opt.count,
        slots: Object.fromEntries(
          Object.entries(msg.opt.slots).map(([s, ws]) => [s, toTensors(ws)]),
        ),
      };
      const last = runLoop(r, state, msg.control, msg.data, msg.layout);
      tf.dispose(Object.values(last.slots).flatMap((s) => Object.values(s)));
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
        for (const at of [C.gen, C.released, C.finished]) Atomics.notify(i32, at);
      }
      reply({ type: "error", index, message });
    });
  });
};
