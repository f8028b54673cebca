/**
 * The training worker: the page's whole computation, off the main thread so the page stays
 * responsive. It chooses the backend (webgpu, webgl, else wasm with `@wider/backend`'s training
 * kernels, threaded when the page is cross-origin isolated, else cpu), loads the data from the
 * app's assets, and trains through `@wider/training`'s `runSteps` as the reference app does:
 *
 *   sgd  from the seeded initial weights to the budget; its state at `swaStart` is kept
 *   swa  from that pretrained point: cyclical rate, an `@wider/averaging` SWA average at each
 *        cycle's end (BatchNorm re-estimated before it is evaluated, where the model has it)
 *   fge  from the same point: triangular rate, a snapshot at each cycle's middle, its softmax
 *        probabilities streamed into an `@wider/ensembling` probability sum
 *
 * then the calibration table (`predictionMetrics`), and the segment SWA -> SGD and the plane
 * through SWA, SGD and the pretrained point (`@wider/geometry`) on a small subset.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount, setThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { swa as swaAverager, updateBatchNorm } from "@wider/averaging";
import { selectBackend } from "@wider/backend";
import {
  type ChannelStats,
  channelStats,
  deriveSeed,
  gather,
  planBatches,
  type Split,
  shuffledIndices,
  toBatchTensors,
} from "@wider/data";
import {
  accumulateProbabilities,
  disposeProbabilitySum,
  initProbabilitySum,
  meanProbabilities,
  type ProbabilitySum,
  predictionMetrics,
} from "@wider/ensembling";
import {
  disposePlan,
  evaluateClassifier,
  evaluatePlan,
  linspace,
  type PlanResults,
  planeThrough,
  segment,
} from "@wider/geometry";
import { buildModel, hasBatchNorm } from "@wider/models";
import {
  branch,
  collect,
  disposeOptState,
  disposeTrainingState,
  type Hook,
  initLoop,
  restore,
  runSteps,
  sgd,
  softmaxCrossEntropy,
  type TrainingState,
} from "@wider/training";
import {
  assignToModel,
  decodeBundle,
  disposeWeights,
  encodeBundle,
  fromModel,
  type Weights,
  withWeights,
} from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { fetchDataset } from "./idxFetch.js";
import { makePlan, type RunPlan, scheduleRows, type Track, totalSteps } from "./plan.js";
import type { FromWorker, MetricsRow, ToWorker } from "./protocol.js";
import type { BackendName, Settings } from "./settings.js";

const post = (m: FromWorker, transfer: Transferable[] = []): void =>
  (self as unknown as Worker).postMessage(m, transfer);

const orThrow = <A>(e: E.Either<{ readonly message: string }, A>, what: string): A => {
  if (E.isLeft(e)) throw new Error(`${what}: ${e.left.message}`);
  return e.right;
};

// ---------------------------------------------------------------------------------------------
// backend
// ---------------------------------------------------------------------------------------------

let backendReady: Promise<void> | null = null;

const tryBackend = async (name: "webgpu" | "webgl" | "cpu"): Promise<boolean> => {
  try {
    if (name === "webgpu") {
      if (!("gpu" in navigator)) return false;
      await import("@tensorflow/tfjs-backend-webgpu");
    }
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
};

/**
 * The WebGL renderer's name, when the browser tells it (`WEBGL_debug_renderer_info`); tfjs's
 * webgl backend keeps its context in `gpgpu.gl` (not a public API, hence the optional reads).
 */
const webglRenderer = (): string => {
  const gl = (tf.backend() as { gpgpu?: { gl?: WebGL2RenderingContext } }).gpgpu?.gl;
  const info = gl?.getExtension("WEBGL_debug_renderer_info");
  return gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : "";
};

const chooseBackend = async (pref: BackendName, threads: Settings["threads"], base: string) => {
  const tried: string[] = [];
  const order: BackendName[] = pref === "auto" ? ["webgpu", "webgl", "wasm", "cpu"] : [pref];
  for (const b of order) {
    if (b === "wasm") {
      // Threads need SharedArrayBuffer, which browsers give cross-origin isolated pages only.
      if (threads === "off") tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
      else if (threads === "all" && self.crossOriginIsolated === true) {
        // tfjs-backend-wasm 4.22 caps its thread pool at half of navigator.hardwareConcurrency
        // (one thread on two cores), leaving a core to the page. Here the page is idle while this
        // worker trains, so it is shown twice the cores and asked for all of them.
        const cores = Math.max(1, navigator.hardwareConcurrency || 1);
        Object.defineProperty(navigator, "hardwareConcurrency", { get: () => 2 * cores });
        setThreadsCount(cores);
      }
      const r = await selectBackend("wasm", { wasmPaths: `${base}tfjs-wasm/` });
      if (E.isRight(r)) {
        const mt = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
        post({
          type: "backend",
          backend: "wasm",
          detail: `XNNPACK with the @wider/backend training kernels; multithreaded binary ${mt ? "used" : "not available"}${tried.length === 0 ? "" : `; ${tried.join("; ")}`}`,
          threads: getThreadsCount(),
          isolated: self.crossOriginIsolated === true,
        });
        return;
      }
      tried.push(`wasm: ${r.left.message}`);
    } else if (b !== "auto") {
      let ok = await tryBackend(b);
      // A software WebGL (SwiftShader, llvmpipe: no GPU) is far slower than wasm: auto skips it.
      if (
        ok &&
        b === "webgl" &&
        pref === "auto" &&
        /swiftshader|llvmpipe|software/i.test(webglRenderer())
      ) {
        tried.push(`webgl: software renderer (${webglRenderer()}), slower than wasm`);
        ok = false;
      }
      if (ok) {
        post({
          type: "backend",
          backend: b,
          detail: tried.length === 0 ? b : `${b} (${tried.join("; ")})`,
          threads: 1,
          isolated: self.crossOriginIsolated === true,
        });
        return;
      }
      tried.push(`${b}: not available in this browser`);
    }
  }
  throw new Error(
    `backend ${pref}: none could start (${tried.join("; ")}); choose another backend in the form`,
  );
};

// ---------------------------------------------------------------------------------------------
// data
// ---------------------------------------------------------------------------------------------

interface RunData {
  readonly train: Split;
  readonly test: Split;
  readonly stats: ChannelStats;
  readonly testX: tf.Tensor4D;
  readonly testLabels: Int32Array;
}

let loaded: { key: string; data: RunData } | null = null;

const loadData = async (s: Settings, base: string): Promise<RunData> => {
  const key = JSON.stringify([s.dataset, s.trainSubset, s.testSubset, s.dataSeed]);
  if (loaded?.key === key) return loaded.data;
  if (loaded !== null) loaded.data.testX.dispose();
  post({ type: "status", text: `loading ${s.dataset}` });
  const d = await fetchDataset(base, s.dataset);
  const stats = channelStats(d.train); // of the full train split, as the reference app
  const train = gather(
    d.train,
    shuffledIndices(d.train.count, s.dataSeed).subarray(0, s.trainSubset),
  );
  const test = gather(
    d.test,
    Int32Array.from({ length: s.testSubset }, (_, i) => i),
  );
  const all = Int32Array.from({ length: test.count }, (_, i) => i);
  const b = toBatchTensors(test, all, { normalize: stats, oneHot: false });
  b.ys.dispose();
  const data: RunData = {
    train,
    test,
    stats,
    testX: b.xs,
    testLabels: Int32Array.from(test.labels),
  };
  loaded = { key, data };
  return data;
};

/** Softmax probabilities of the model on the test subset `[n, 10]`; the caller owns them. */
const testProbabilities = (model: tf.LayersModel, d: RunData): tf.Tensor2D =>
  tf.tidy(() => {
    const n = d.testX.shape[0];
    const parts: tf.Tensor[] = [];
    for (let i = 0; i < n; i += 500) {
      const x = tf.slice(d.testX, i, Math.min(500, n - i));
      parts.push(tf.softmax(model.apply(x, { training: false }) as tf.Tensor2D));
    }
    return tf.concat(parts, 0) as tf.Tensor2D;
  });

const errorOf = async (probs: tf.Tensor2D, labels: Int32Array): Promise<number> => {
  const pred = tf.tidy(() => tf.argMax(probs, 1));
  const p = (await pred.data()) as Int32Array;
  pred.dispose();
  let wrong = 0;
  for (let i = 0; i < labels.length; i++) if (p[i] !== labels[i]) wrong++;
  return wrong / labels.length;
};

const metricsRow = (method: string, probs: tf.Tensor2D, labels: Int32Array): MetricsRow => {
  const m = orThrow(predictionMetrics(probs, labels), method);
  return { method, accuracy: m.accuracy, nll: m.nll, ece: m.ece, brier: m.brier, count: m.count };
};

/** Training images (no labels) for BatchNorm re-estimation: one pass in the order of epoch 0. */
function* bnBatches(d: RunData, s: Settings): Generator<tf.Tensor> {
  const plan = planBatches({
    count: d.train.count,
    batchSize: s.batchSize,
    seed: deriveSeed(s.dataSeed, 0),
    dropRemainder: true,
  });
  for (const idx of plan) {
    const b = toBatchTensors(d.train, idx, { normalize: d.stats, oneHot: false });
    b.ys.dispose();
    yield b.xs;
  }
}

const modelFor = (s: Settings, seed = s.seed): tf.LayersModel =>
  orThrow(
    buildModel(
      s.model === "mlp"
        ? { kind: "mlp", inputShape: [28, 28, 1], classes: 10, seed }
        : {
            kind: "cnn",
            inputShape: [28, 28, 1],
            classes: 10,
            seed,
            batchNorm: s.model === "cnn-bn",
          },
    ),
    `model ${s.model}`,
  );

// ---------------------------------------------------------------------------------------------
// pause / resume
// ---------------------------------------------------------------------------------------------

let paused = false;
let wake: (() => void) | null = null;

const waitWhilePaused = async (): Promise<void> => {
  while (paused) await new Promise<void>((ok) => (wake = ok));
};

/** Lets queued messages (pause, export) in between steps: the loop itself never yields to them. */
const breathe = (): Promise<void> => new Promise((ok) => setTimeout(ok, 0));

// ---------------------------------------------------------------------------------------------
// the run
// ---------------------------------------------------------------------------------------------

interface Finished {
  readonly model: tf.LayersModel;
  readonly swa: Weights;
  readonly settings: Settings;
  readonly swaError: number;
}
let finished: Finished | null = null;

const train = async (s: Settings, base: string): Promise<void> => {
  const t0 = performance.now();
  if (finished !== null) {
    disposeFinished(finished);
    finished = null;
  }
  if (backendReady === null) backendReady = chooseBackend(s.backend, s.threads, base);
  await backendReady;
  const d = await loadData(s, base);
  const tensorsBefore = tf.memory().numTensors;
  const plan: RunPlan = makePlan(s);
  const total = totalSteps(plan);
  post({
    type: "plan",
    rows: scheduleRows(plan, Math.max(1, Math.floor(total / 600))),
    totalSteps: total,
    swaStartStep: plan.swaStartStep,
    budgetStep: plan.budgetStep,
  });
  const spe = plan.stepsPerEpoch;
  const model = modelFor(s);
  const bn = hasBatchNorm(model);
  const optimizer = sgd({ momentum: s.momentum, weightDecay: s.weightDecay });
  let epochPlan: { epoch: number; batches: readonly Int32Array[] } | null = null;
  const batches = (step: number) => {
    const epoch = Math.floor(step / spe);
    if (epochPlan?.epoch !== epoch)
      epochPlan = {
        epoch,
        batches: planBatches({
          count: d.train.count,
          batchSize: s.batchSize,
          seed: deriveSeed(s.dataSeed, epoch),
          dropRemainder: true,
        }),
      };
    const b = toBatchTensors(d.train, epochPlan.batches[step % spe]!, {
      normalize: d.stats,
      oneHot: false,
    });
    return { x: b.xs, y: b.ys };
  };

  let done = 0;
  let trainMs = 0;
  let samples = 0;
  let lastPost = 0;
  let stepStart = performance.now();
  const progressHook = (track: Track): Hook => ({
    onStep: async ({ step, lr, loss }) => {
      const now = performance.now();
      trainMs += now - stepStart;
      samples += s.batchSize;
      done++;
      if (!Number.isFinite(loss))
        throw new Error(
          `${track}: the training loss is ${loss} at step ${step + 1}; lower lr (or swaLr, fgeLrMax)`,
        );
      if (now - lastPost > 200 || done === total) {
        post({
          type: "progress",
          track,
          step,
          lr,
          loss,
          done,
          samplesPerSec: trainMs > 0 ? (1000 * samples) / trainMs : 0,
        });
        lastPost = now;
        trainMs = 0;
        samples = 0;
        await breathe();
      }
      await waitWhilePaused();
      stepStart = performance.now();
    },
  });
  /** Hooks that evaluate must not count as training time. */
  const timed =
    <A extends unknown[]>(f: (...a: A) => Promise<void>) =>
    async (...a: A): Promise<void> => {
      await f(...a);
      stepStart = performance.now();
    };

  // SGD: from the initial weights to the budget, keeping the state at swaStart.
  post({ type: "status", text: "training SGD" });
  let pretrained: TrainingState | null = null;
  let sgdWeights: Weights | null = null;
  const swaHookState: { mean: Weights | null } = { mean: null };
  let fgeSum: ProbabilitySum = initProbabilitySum();
  const kept: Weights[] = [];
  let doneAt: { t0: number; tensorsBefore: number; held: number } | null = null;
  try {
    const r = await runSteps({
      model,
      optimizer,
      loss: softmaxCrossEntropy(),
      schedule: plan.schedules.sgd,
      batches,
      state: initLoop(model, optimizer),
      to: plan.budgetStep,
      stepsPerEpoch: spe,
      hooks: [
        progressHook("sgd"),
        {
          onStep: ({ step, state }) => {
            if (step + 1 === plan.swaStartStep) pretrained = branch(model, state);
          },
        },
        {
          onEpoch: timed(async ({ step }) => {
            const p = testProbabilities(model, d);
            post({
              type: "point",
              track: "sgd",
              step,
              testError: await errorOf(p, d.testLabels),
              models: 1,
            });
            p.dispose();
          }),
        },
      ],
    });
    disposeOptState(r.state.opt);
    sgdWeights = fromModel(model, { include: "all" });
    const start = pretrained as TrainingState | null;
    if (start === null) throw new Error("internal: no pretrained state at swaStart");

    // SWA: from the pretrained point, averaging at each cycle's end.
    post({ type: "status", text: "training SWA" });
    const averager = swaAverager();
    const swaHook = collect({
      state: averager.init(),
      update: (st, w) => averager.update(st, w),
      policy: plan.swaCollect,
    });
    const swaEval: Hook = {
      onStep: timed(async ({ step }) => {
        if (!plan.swaCollect(step)) return;
        const mean = swaHook.state.mean;
        if (mean === null) return;
        const e = await withWeights(model, mean, async () => {
          if (bn) await updateBatchNorm(model, bnBatches(d, s), { disposeBatches: true });
          const p = testProbabilities(model, d);
          const err = await errorOf(p, d.testLabels);
          p.dispose();
          return err;
        });
        post({
          type: "point",
          track: "swa",
          step,
          testError: orThrow(e, "SWA evaluation"),
          models: swaHook.state.n,
        });
      }),
    };
    const rs = await runSteps({
      model,
      optimizer,
      loss: softmaxCrossEntropy(),
      schedule: plan.schedules.swa,
      batches,
      state: orThrow(restore(model, start), "restore"),
      to: plan.budgetStep,
      stepsPerEpoch: spe,
      hooks: [progressHook("swa"), swaHook, swaEval],
    });
    disposeOptState(rs.state.opt);
    swaHookState.mean = swaHook.state.mean;
    const swaN = swaHook.state.n;

    // FGE: from the pretrained point, a snapshot at each triangular cycle's middle.
    post({ type: "status", text: "training FGE" });
    let members = 0;
    // The plane of the paper's Figure 1 goes through three snapshots of the averaging phase: keep
    // the first, middle and last FGE snapshots' weights (fewer than three: SWA, SGD, pretrained).
    const fgeSteps: number[] = [];
    for (let k = plan.swaStartStep; k < plan.budgetStep; k++)
      if (plan.fgeCollect(k)) fgeSteps.push(k);
    const keepAt =
      fgeSteps.length >= 3
        ? [0, Math.floor((fgeSteps.length - 1) / 2), fgeSteps.length - 1]
        : ([] as number[]);
    const fgeHook: Hook = {
      onStep: timed(async ({ step }) => {
        if (!plan.fgeCollect(step)) return;
        if (keepAt.some((i) => fgeSteps[i] === step))
          kept.push(fromModel(model, { include: "all" }));
        const p = testProbabilities(model, d);
        fgeSum = orThrow(accumulateProbabilities(fgeSum, p), "FGE");
        p.dispose();
        members++;
        const mean = orThrow(meanProbabilities(fgeSum), "FGE");
        const err = await errorOf(mean, d.testLabels);
        mean.dispose();
        post({ type: "point", track: "fge", step, testError: err, models: members });
      }),
    };
    const rf = await runSteps({
      model,
      optimizer,
      loss: softmaxCrossEntropy(),
      schedule: plan.schedules.fge,
      batches,
      state: orThrow(restore(model, start), "restore"),
      to: plan.budgetStep,
      stepsPerEpoch: spe,
      hooks: [progressHook("fge"), fgeHook],
    });
    disposeOptState(rf.state.opt);

    // The table: SGD, SWA (BatchNorm re-estimated), FGE ensemble on the test subset.
    post({ type: "status", text: "evaluating" });
    const rows: MetricsRow[] = [];
    orThrow(assignToModel(model, sgdWeights), "assign");
    const ps = testProbabilities(model, d);
    rows.push(metricsRow("SGD", ps, d.testLabels));
    ps.dispose();
    if (swaHookState.mean === null) throw new Error("internal: no SWA average");
    orThrow(assignToModel(model, swaHookState.mean), "assign");
    if (bn) await updateBatchNorm(model, bnBatches(d, s), { disposeBatches: true });
    const swaFinal = fromModel(model, { include: "all" });
    const pw = testProbabilities(model, d);
    const swaRow = metricsRow(
      `SWA (${swaN} models${bn ? ", BN re-estimated" : ""})`,
      pw,
      d.testLabels,
    );
    rows.push(swaRow);
    pw.dispose();
    if (fgeSum.count > 0) {
      const pf = orThrow(meanProbabilities(fgeSum), "FGE");
      rows.push(metricsRow(`FGE (${fgeSum.count} snapshots)`, pf, d.testLabels));
      pf.dispose();
    }
    post({ type: "final", rows });

    // Geometry on a small subset: segment SWA -> SGD, plane through three FGE snapshots.
    post({ type: "status", text: "geometry: segment and plane" });
    const [k1, k2, k3] = kept;
    const anchors =
      k1 !== undefined && k2 !== undefined && k3 !== undefined
        ? {
            points: [k1, k2, k3] as const,
            labels: keepAt.map((i) => `FGE ${i + 1}`) as [string, string, string],
            title: `three snapshots of the averaging phase (FGE ${keepAt.map((i) => i + 1).join(", ")} of ${fgeSteps.length})`,
          }
        : {
            points: [swaFinal, sgdWeights, start.weights] as const,
            labels: ["SWA", "SGD", "pretrained"] as [string, string, string],
            title: `SWA, SGD and the pretrained point (fewer than 3 FGE snapshots: ${fgeSteps.length})`,
          };
    const geometry = await runGeometry(model, d, s, swaFinal, sgdWeights, anchors.points);
    post({
      type: "geometry",
      ...geometry,
      planeLabels: anchors.labels,
      planeTitle: anchors.title,
    });
    finished = { model, swa: swaFinal, settings: s, swaError: 1 - swaRow.accuracy };
    doneAt = { t0, tensorsBefore, held: model.weights.length + Object.keys(swaFinal).length };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    const p = pretrained as TrainingState | null;
    if (p !== null) disposeTrainingState(p);
    if (sgdWeights !== null) disposeWeights(sgdWeights);
    if (swaHookState.mean !== null) disposeWeights(swaHookState.mean);
    disposeProbabilitySum(fgeSum);
    for (const w of kept) disposeWeights(w);
  }
  if (doneAt !== null) {
    const at = doneAt as { t0: number; tensorsBefore: number; held: number };
    post({
      type: "done",
      seconds: (performance.now() - at.t0) / 1000,
      // Tensors the run left beyond the model and the SWA weights it keeps for export.
      leaked: tf.memory().numTensors - at.tensorsBefore - at.held,
    });
  }
};

const disposeFinished = (f: Finished): void => {
  disposeWeights(f.swa);
  f.model.dispose();
};

const runGeometry = async (
  model: tf.LayersModel,
  d: RunData,
  s: Settings,
  swa: Weights,
  sgd: Weights,
  plane: readonly [Weights, Weights, Weights],
): Promise<{ segment: PlanResults; plane: PlanResults }> => {
  const keys = model.trainableWeights.map((v) => v.originalName);
  const pick = (x: Weights): Weights => Object.fromEntries(keys.map((k) => [k, x[k]!]));
  const n = s.geometrySubset;
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const tr = toBatchTensors(d.train, idx, { normalize: d.stats, oneHot: false });
  const te = toBatchTensors(d.test, idx, { normalize: d.stats, oneHot: false });
  const evaluate = evaluateClassifier(
    { train: { x: tr.xs, y: tr.ys }, test: { x: te.xs, y: te.ys } },
    { fromLogits: true, batchSize: 250 },
  );
  const options = {
    model,
    evaluate,
    ...(hasBatchNorm(model)
      ? { bnBatches: () => bnBatches(d, s), bnOptions: { disposeBatches: true } }
      : {}),
  };
  try {
    const seg = orThrow(
      segment(pick(swa), pick(sgd), linspace(-0.5, 1.5, s.segmentPoints)),
      "segment",
    );
    let segR: PlanResults;
    try {
      segR = orThrow(await evaluatePlan(seg, options), "segment");
    } finally {
      disposePlan(seg);
    }
    await breathe();
    await waitWhilePaused();
    const pl = orThrow(
      planeThrough(pick(plane[0]), pick(plane[1]), pick(plane[2]), {
        grid: s.planeGrid,
        margin: 0.2,
      }),
      "plane",
    );
    let planeR: PlanResults;
    try {
      planeR = orThrow(await evaluatePlan(pl, options), "plane");
    } finally {
      disposePlan(pl);
    }
    return { segment: segR, plane: planeR };
  } finally {
    tf.dispose([tr.xs, tr.ys, te.xs, te.ys]);
  }
};

// ---------------------------------------------------------------------------------------------
// export / import
// ---------------------------------------------------------------------------------------------

const exportSwa = async (): Promise<void> => {
  if (finished === null) throw new Error("export: train first; there is no SWA average yet");
  const enc = orThrow(
    await encodeBundle({
      groups: { weights: finished.swa },
      metadata: {
        app: "@wider/web",
        what: "SWA average (BatchNorm re-estimated where the model has it)",
        settings: { ...finished.settings },
        testError: finished.swaError,
      },
    }),
    "export",
  );
  post({ type: "exported", ...enc }, [enc.blob.buffer]);
};

const importSwa = async (
  manifestText: string,
  blob: Uint8Array,
  s: Settings,
  base: string,
): Promise<void> => {
  const bundle = orThrow(await decodeBundle(manifestText, blob), "import");
  const weights = bundle.groups.weights;
  if (weights === undefined || Object.keys(bundle.groups).length !== 1) {
    for (const g of Object.values(bundle.groups)) disposeWeights(g);
    throw new Error('import: the file holds no single "weights" group; export it from this page');
  }
  const meta = bundle.metadata as { settings?: Partial<Settings> } | undefined;
  const saved = meta?.settings ?? {};
  // The model and data set the weights were trained for; the test subset is this page's.
  const settings: Settings = {
    ...s,
    ...(saved.model === undefined ? {} : { model: saved.model }),
    ...(saved.dataset === undefined ? {} : { dataset: saved.dataset }),
  };
  try {
    if (backendReady === null) backendReady = chooseBackend(s.backend, s.threads, base);
    await backendReady;
    const d = await loadData(settings, base);
    const model = modelFor(settings);
    try {
      orThrow(assignToModel(model, weights), "import: the weights do not fit the model");
      const p = testProbabilities(model, d);
      const row = metricsRow(
        `imported SWA (${settings.model}, ${settings.dataset})`,
        p,
        d.testLabels,
      );
      p.dispose();
      post({ type: "imported", row });
    } finally {
      model.dispose();
    }
  } finally {
    disposeWeights(weights);
  }
};

// ---------------------------------------------------------------------------------------------
// messages
// ---------------------------------------------------------------------------------------------

const fail = (e: unknown): void =>
  post({ type: "error", message: e instanceof Error ? e.message : String(e) });

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case "start":
      train(m.settings, m.base).catch(fail);
      break;
    case "pause":
      paused = true;
      post({ type: "paused" });
      break;
    case "resume":
      paused = false;
      wake?.();
      wake = null;
      post({ type: "resumed" });
      break;
    case "export":
      exportSwa().catch(fail);
      break;
    case "import":
      importSwa(m.manifestText, m.blob, m.settings, m.base).catch(fail);
      break;
  }
};
