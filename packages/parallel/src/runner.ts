/**
 * The main thread's side: starts the replicas through a {@link Transport}, and runs
 * `@wider/training`'s loop contract (`runSteps` options and result) with each step's batch split
 * across them. Per step it writes the batch and the rate into shared memory, bumps a generation
 * counter (`Atomics.notify`) and awaits the replicas' done barrier (`Atomics.waitAsync`); after
 * the steps no hook reads the model at, one step ahead (step s + 1 is posted before step s is
 * awaited). No message is sent per step and no gradient is copied through `postMessage`.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { isWiderError, WiderFailure } from "@wider/errors";
import type { OptState, RunResult, RunStepsOptions } from "@wider/training";
import { disposeOptState, hookCaller, readsModelAfter } from "@wider/training";
import { fail as failWith, parallelError } from "./errors.js";
import {
  C,
  Cmd,
  controlSize,
  controlViews,
  F,
  type FromWorker,
  type Layout,
  type ModelSource,
  type OptimizerSpec,
  type ToWorker,
  type WorkerBackend,
} from "./protocol.js";
import type { Transport, WorkerHandle } from "./transport.js";
import { buildOptimizer, tensorFrom, valuesOf } from "./worker.js";

/** Options of {@link parallelRunner}. */
export interface ParallelOptions {
  /** How workers start (`nodeTransport()` from `@wider/parallel/node`, or your Web Worker one). */
  readonly transport: Transport;
  /** Replicas (default: `transport.cores`, else 2). */
  readonly workers?: number;
  /** The backend every replica starts (default `"wasm"`, with `@wider/backend`'s training kernels). */
  readonly backend?: WorkerBackend;
  /** The model every replica builds; the main thread's model must have the same variables. */
  readonly model: ModelSource;
  /** The optimizer every replica applies; `runSteps`' `optimizer` must have the same `name`. */
  readonly optimizer: OptimizerSpec;
  /** The loss of every replica: `softmaxCrossEntropy({ labelSmoothing })` (default 0). */
  readonly labelSmoothing?: number;
  /** Debug: every `hashEvery` steps, check that all replicas hold bit-identical weights (0: never). */
  readonly hashEvery?: number;
  /** A step that takes longer than this fails the run (default: no limit). */
  readonly stepTimeoutMs?: number;
}

/** A started set of replicas; `runSteps` is `@wider/training`'s `runSteps`, spread over them. */
export interface ParallelRunner {
  readonly workers: number;
  /**
   * As `@wider/training`'s `runSteps` (same options and result; consumes `options.state`), with
   * each batch split row-wise across the replicas. `options.loss` is not called: the replicas use
   * the runner's loss. The main model and `state.opt` are brought up to date after the steps a
   * hook reads them at (`Hook.readsModel`, default every step; a copy of the weights and slots
   * each time) and at the end. After the other steps the next step is posted before the step is
   * awaited (`batches` and `schedule` are called one step early), and a signal a hook sets there
   * stops the run one step later than `runSteps` would: the step posted ahead finishes and its
   * hooks run.
   */
  readonly runSteps: (options: RunStepsOptions) => Promise<RunResult>;
  /** Each worker's `tf.memory().numTensors` after the last run (empty before one): for leak checks. */
  readonly workerTensors: () => readonly number[];
  /** Stops every worker (idempotent). */
  readonly close: () => Promise<void>;
}

/**
 * `Atomics.waitAsync` (ES2024; Node >= 16, Chromium, Safari 16.4), typed here because the
 * project's `lib` predates it; without it (Firefox), a 1 ms timer poll.
 */
const waitAsync = (
  i32: Int32Array,
  at: number,
  value: number,
  timeoutMs: number,
): { async: false } | { async: true; value: Promise<unknown> } => {
  const atomics = Atomics as unknown as {
    waitAsync?: (
      a: Int32Array,
      i: number,
      v: number,
      t: number,
    ) => { async: false } | { async: true; value: Promise<unknown> };
  };
  if (atomics.waitAsync !== undefined) return atomics.waitAsync(i32, at, value, timeoutMs);
  return { async: true, value: new Promise((r) => setTimeout(r, 1)) };
};

const perRow = (shape: readonly number[]) => shape.slice(1).reduce((a, b) => a * b, 1);

/**
 * Starts `workers` replicas of `options.model` and returns a runner whose `runSteps` trains the
 * main thread's model data-parallel. Rejects with one message if a worker fails to start.
 *
 * @example
 * const runner = await parallelRunner({ transport: nodeTransport(), workers: 2,
 *   model: { spec: { kind: "cnn", seed: 1 } }, optimizer: { kind: "sgd", momentum: 0.9 } });
 * const r = await runner.runSteps({ model, optimizer: sgd({ momentum: 0.9 }), loss, schedule, batches, state, to: 1000 });
 * await runner.close();
 */
export const parallelRunner = async (options: ParallelOptions): Promise<ParallelRunner> => {
  const workers = options.workers ?? options.transport.cores ?? 2;
  if (!Number.isSafeInteger(workers) || workers < 1)
    failWith("config", `parallelRunner: workers was ${String(workers)}; pass a positive integer`, {
      path: "workers",
      value: workers,
      fix: "pass a positive integer",
    });
  const hashEvery = options.hashEvery ?? 0;
  const optName = buildOptimizer(options.optimizer).name;
  const handles: WorkerHandle[] = [];
  let failure: string | undefined;
  let onFail: ((reason: string) => void) | undefined;
  let closed = false;
  let tensors: number[] = [];
  const listeners: ((m: FromWorker) => void)[] = [];
  const fail = (reason: string) => {
    if (failure !== undefined) return;
    failure = reason;
    onFail?.(reason);
  };
  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.all(handles.map((h) => h.terminate()));
  };
  /** Resolves with each worker's message of `type`, rejects on the first failure. */
  const collectAll = <T extends FromWorker["type"]>(type: T) =>
    new Promise<Extract<FromWorker, { type: T }>[]>((resolve, reject) => {
      const got: Extract<FromWorker, { type: T }>[] = [];
      onFail = (reason) => reject(new WiderFailure(parallelError("worker", reason)));
      if (failure !== undefined) onFail(failure);
      listeners.push((m) => {
        if (m.type !== type) return;
        got[m.index] = m as Extract<FromWorker, { type: T }>;
        if (got.filter((g) => g !== undefined).length === workers) resolve(got);
      });
    }).finally(() => {
      listeners.length = 0;
    });
  for (let i = 0; i < workers; i++) {
    const h = options.transport.spawn(i, `@wider/parallel replica ${i}`);
    handles.push(h);
    h.onMessage((m) => {
      const msg = m as FromWorker;
      if (msg.type === "error") fail(`worker ${msg.index} threw: ${msg.message}`);
      for (const l of [...listeners]) l(msg);
    });
    h.onFailure((reason) => fail(`worker ${i} ${reason}`));
  }
  const ready = collectAll("ready");
  for (let i = 0; i < workers; i++) {
    const init: ToWorker = {
      type: "init",
      index: i,
      workers,
      backend: options.backend ?? "wasm",
      model: options.model,
      optimizer: options.optimizer,
      labelSmoothing: options.labelSmoothing ?? 0,
    };
    handles[i]!.postMessage(init);
  }
  let info: Extract<FromWorker, { type: "ready" }>;
  try {
    info = (await ready)[0]!;
  } catch (e) {
    await close();
    failWith(
      "worker",
      `parallelRunner: a worker failed to start: ${(e as Error).message}; nothing was trained`,
    );
  }

  const runSteps = async (run: RunStepsOptions): Promise<RunResult> => {
    if (closed || failure !== undefined)
      failWith(
        failure === undefined ? "config" : "worker",
        `runSteps: this runner is closed${failure === undefined ? "" : ` after a failure (${failure})`}; start a new parallelRunner`,
      );
    const { model, schedule, batches, to } = run;
    if (run.optimizer.name !== optName)
      failWith(
        "config",
        `runSteps: the optimizer is ${run.optimizer.name} but the replicas apply ${optName}; pass the same settings to parallelRunner's optimizer`,
      );
    if (!Number.isSafeInteger(to) || to < run.state.step)
      failWith(
        "config",
        `runSteps: to was ${String(to)}; pass an integer >= state.step (${run.state.step})`,
        { path: "to", value: to },
      );
    const hooks = run.hooks ?? [];
    const spe = run.stepsPerEpoch;
    // The main model's variables, in the replicas' order.
    const byName = new Map(model.weights.map((v) => [v.originalName, v] as const));
    const vars = info.names.map((n, k) => {
      const v = byName.get(n);
      if (v === undefined || v.shape.join() !== info.shapes[k]!.join())
        failWith(
          "shape",
          `runSteps: the replicas' variable "${n}" [${info.shapes[k]!.join(", ")}] is ${v === undefined ? "missing from" : `[${v.shape.join(", ")}] in`} the main model; build the main model from the same spec`,
        );
      return v;
    });
    if (vars.length !== model.weights.length)
      failWith(
        "shape",
        `runSteps: the main model has ${model.weights.length} variables, the replicas ${vars.length}; build it from the same spec`,
      );
    const sizes = info.shapes.map((s) => s.reduce((a, b) => a * b, 1));
    const trainNames = info.names.slice(0, info.trainable);
    const paramCount = sizes.reduce((a, b) => a + b, 0);
    const slotCount = sizes.slice(0, info.trainable).reduce((a, b) => a + b, 0);

    let state = run.state;
    if (state.step >= to) return { state, aborted: false };
    const first = await batches(state.step);
    const capacity = first.x.shape[0]!;
    if (capacity < workers)
      failWith(
        "shape",
        `runSteps: the batch of step ${state.step} has ${capacity} rows for ${workers} workers; use batches of at least ${workers} rows`,
      );
    const xShape = first.x.shape.slice(1);
    const yShape = first.y.shape.slice(1);
    const segment = paramCount;
    const sums = 0;
    const xSize = capacity * perRow(first.x.shape);
    const ySize = capacity * perRow(first.y.shape);
    const x0 = sums + workers * segment;
    const x = [x0, x0 + xSize] as const;
    const y = [x0 + 2 * xSize, x0 + 2 * xSize + ySize] as const;
    const st = x0 + 2 * (xSize + ySize);
    const total = st + paramCount + info.slotNames.length * slotCount;
    const layout: Layout = {
      sizes,
      segment,
      sums,
      x,
      y,
      state: st,
      capacity,
      xShape,
      yShape,
      yDtype: first.y.dtype === "int32" ? "int32" : "float32",
      slotNames: info.slotNames,
      total,
    };
    const control = new SharedArrayBuffer(controlSize(workers));
    const data = new SharedArrayBuffer(4 * total);
    const { i32, f64 } = controlViews(control, workers);
    const f32 = new Float32Array(data);
    // The shared state: the weights, then every slot of the trainable weights, flat.
    let at0 = st;
    vars.forEach((v, k) => {
      f32.set(v.read().dataSync() as Float32Array, at0);
      at0 += sizes[k]!;
    });
    for (const s of info.slotNames) {
      trainNames.forEach((k, j) => {
        const t = state.opt.slots[s]?.[k];
        if (t === undefined || t.size !== sizes[j])
          failWith(
            "shape",
            `runSteps: state.opt has ${t === undefined ? "no" : `a [${t.shape.join(", ")}]`} "${s}" slot for "${k}" [${info.shapes[j]!.join(", ")}]; start from initLoop(model, optimizer) with the runner's optimizer`,
          );
        f32.set(t.dataSync() as Float32Array, at0);
        at0 += sizes[j]!;
      });
    }
    const ran = collectAll("ran");
    ran.catch(() => undefined);
    for (const h of handles) {
      const msg: ToWorker = {
        type: "run",
        count: state.opt.count,
        control,
        data,
        layout,
      };
      h.postMessage(msg);
    }
    const failed = new Promise<never>((_, reject) => {
      const stop = (reason: string) => {
        Atomics.store(i32, C.error, workers + 1);
        for (const at of [C.gen, C.released, C.released2, C.finished]) Atomics.notify(i32, at);
        reject(new WiderFailure(parallelError("worker", reason)));
      };
      onFail = stop;
      if (failure !== undefined) stop(failure);
    });
    failed.catch(() => undefined);
    /** Awaits `finished >= gen` without blocking the main thread. */
    const finished = async (gen: number, step: number): Promise<void> => {
      const t0 = Date.now();
      for (;;) {
        const now = Atomics.load(i32, C.finished);
        if (now >= gen) return;
        if (failure !== undefined) failWith("worker", failure);
        if (options.stepTimeoutMs !== undefined && Date.now() - t0 > options.stepTimeoutMs)
          failWith(
            "worker",
            `step ${step} took more than stepTimeoutMs (${options.stepTimeoutMs} ms)`,
          );
        const w = waitAsync(i32, C.finished, now, 100);
        if (w.async) await Promise.race([w.value, failed]);
      }
    };
    /** Copies the shared state (weights, slots) into the main model and a new optimizer state. */
    const pull = (): OptState => {
      let at = st;
      vars.forEach((v, k) => {
        const t = tensorFrom(f32.subarray(at, at + sizes[k]!), info.shapes[k]!);
        v.write(t);
        t.dispose();
        at += sizes[k]!;
      });
      const slots: Record<string, Record<string, tf.Tensor>> = {};
      for (const s of info.slotNames) {
        const ws: Record<string, tf.Tensor> = {};
        trainNames.forEach((k, j) => {
          ws[k] = tensorFrom(f32.subarray(at, at + sizes[j]!), info.shapes[j]!);
          at += sizes[j]!;
        });
        slots[s] = ws;
      }
      return { count: Atomics.load(i32, C.count), slots };
    };
    let gen = 0;
    /** Sets generation `gen + 1`'s parameters in its parity's slots and wakes the replicas. */
    const post = (cmd: number, rows = 0, sync = 0, lr = 0): number => {
      const g = gen + 1;
      const p = g & 1;
      Atomics.store(i32, C.rows + p, rows);
      Atomics.store(i32, C.sync + p, sync);
      Atomics.store(i32, C.cmd + p, cmd);
      f64[F.lr + p] = lr;
      gen = g;
      Atomics.store(i32, C.gen, g);
      Atomics.notify(i32, C.gen);
      return g;
    };
    interface Posted {
      readonly gen: number;
      readonly step: number;
      readonly lr: number;
      readonly hashed: boolean;
      /** A hook reads the main model after this step: it is copied out before the next is posted. */
      readonly read: boolean;
    }
    /** Whether a hook reads the main model or `state.opt` after a step. */
    const reads = readsModelAfter(hooks, spe);
    /**
     * Fetches step `step`'s batch, writes it into the buffers of the next generation's parity
     * (free: the replicas finished the generation before last) and posts the step.
     */
    const postStep = async (step: number, given?: typeof first): Promise<Posted> => {
      const lr = schedule(step);
      const batch = given ?? (await batches(step));
      const rows = batch.x.shape[0]!;
      const p = (gen + 1) & 1;
      try {
        if (rows > capacity || rows < workers)
          failWith(
            "shape",
            `runSteps: the batch of step ${step} has ${rows} rows; the first had ${capacity}, and each must have between ${workers} (one per worker) and ${capacity} rows`,
          );
        f32.set(valuesOf(batch.x), x[p]);
        f32.set(Float32Array.from(batch.y.dataSync()), y[p]);
      } finally {
        if (run.disposeBatches !== false) tf.dispose([batch.x, batch.y]);
      }
      const hashed = hashEvery > 0 && (step + 1) % hashEvery === 0;
      // After the steps a hook reads the model at, the main model and the optimizer state are
      // copied out (the replicas wait for the next step meanwhile); otherwise once, at the end.
      const read = reads(step);
      const sync = hashed ? 2 : read ? 1 : 0;
      return { gen: post(Cmd.step, rows, sync, lr), step, lr, hashed, read };
    };
    const afterStep = hookCaller(hooks, spe);
    let aborted = false;
    let current: OptState | undefined;
    let pulledAt = state.step;
    const stepOf = () => state.step;
    try {
      let pendingBatch: typeof first | undefined = first;
      let next: Posted | undefined;
      if (run.signal?.aborted === true) aborted = true;
      else {
        next = await postStep(state.step, pendingBatch);
        pendingBatch = undefined;
      }
      // After a step no hook reads the model at (`Hook.readsModel`; every step without hooks),
      // one step ahead: step s + 1 is posted before step s is awaited, so the replicas never
      // wait for this thread between steps. After a step some hook reads the model at, step s + 1
      // is posted after the copy of the state and the hooks of step s (as runSteps runs them):
      // done while the replicas train on, this thread's work would take a core from one of
      // them, and the other would wait for it at the barrier (measured slower on 2 cores).
      const postNext = async (step: number): Promise<Posted | undefined> => {
        if (step >= to) return undefined;
        if (run.signal?.aborted === true) {
          aborted = true;
          return undefined;
        }
        return postStep(step);
      };
      while (next !== undefined) {
        const now = next;
        const ahead = !now.read;
        next = ahead ? await postNext(now.step + 1) : undefined;
        await finished(now.gen, now.step);
        const p = now.gen & 1;
        let loss = 0;
        for (let w = 0; w < workers; w++) loss += f64[F.losses + p * workers + w]!;
        if (now.hashed) {
          const hs = Array.from({ length: workers }, (_, w) => i32[C.hashes + p * workers + w]!);
          if (hs.some((h) => h !== hs[0]))
            failWith(
              "worker",
              `the replicas diverged at step ${now.step} (weight hashes ${hs.map((h) => (h >>> 0).toString(16)).join(", ")})`,
            );
        }
        if (!ahead) {
          if (current !== undefined) disposeOptState(current);
          current = pull();
          pulledAt = now.step + 1;
        }
        state = { step: now.step + 1, opt: current ?? state.opt };
        await afterStep({ step: now.step, lr: now.lr, loss, state, model });
        if (!ahead) next = await postNext(now.step + 1);
      }
      if (pendingBatch !== undefined && run.disposeBatches !== false)
        tf.dispose([pendingBatch.x, pendingBatch.y]);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      fail(reason);
      await close();
      if (current !== undefined) disposeOptState(current);
      disposeOptState(run.state.opt);
      failWith(
        isWiderError(e) ? e.kind : "worker",
        `@wider/parallel: the run stopped at step ${stepOf()}: ${reason}. Every worker was terminated; the main model holds the weights of the last step it received. Resume from your last checkpoint.`,
      );
    }
    // The end: the replicas write their slots and reply; unless a hook read it after the last
    // step, the state is copied out here.
    post(Cmd.end);
    tensors = (await Promise.race([ran, failed])).map((m) => m.tensors);
    if (state.step !== pulledAt) {
      if (current !== undefined) disposeOptState(current);
      current = pull();
    }
    if (current === undefined) return { state, aborted };
    if (current !== run.state.opt) disposeOptState(run.state.opt);
    return { state: { step: state.step, opt: current }, aborted };
  };

  return { workers, runSteps, workerTensors: () => tensors, close };
};
