/**
 * Cost of one `swa().update` (with the `fromModel` copy a training loop needs) against one
 * training step of the same model (SGD, softmax cross-entropy, batch 128), for an MLP
 * (784-512-256-10) and a CNN (conv32-pool-conv64-pool-dense128-dense10, 28x28x1), on the
 * TensorFlow.js `cpu` and `wasm` backends (wasm trains with the @wider/backend kernels).
 * Prints the ratio update/step; the target is < 2 %. On wasm it also times the same rule as
 * three tfjs kernels (`fromRule`, no one-pass kernel), the path taken where @wider/backend's
 * `WiderSwaUpdate` is not registered, as a baseline in the same process. Not part of the tests.
 *
 * Usage: pnpm bench   (env BENCH_SECONDS, default 6: time budget per timed loop)
 */
import * as tf from "@tensorflow/tfjs";
import { initWasmTraining } from "@wider/backend";
import { disposeWeights, fromModel, numel } from "@wider/weights";
import { type Averager, disposeState, fromRule, swa } from "../src/index.js";

type Kind = "mlp" | "cnn";
const BATCH = 128;
const SECONDS = Number(process.env.BENCH_SECONDS ?? "6");

const build = (kind: Kind): tf.Sequential =>
  kind === "mlp"
    ? tf.sequential({
        layers: [
          tf.layers.flatten({ inputShape: [28, 28, 1] }),
          tf.layers.dense({ units: 512, activation: "relu" }),
          tf.layers.dense({ units: 256, activation: "relu" }),
          tf.layers.dense({ units: 10 }),
        ],
      })
    : tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [28, 28, 1],
            filters: 32,
            kernelSize: 3,
            activation: "relu",
          }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 128, activation: "relu" }),
          tf.layers.dense({ units: 10 }),
        ],
      });

/** Mean milliseconds of `f` over up to `maxRuns` runs within `seconds` (after `warmup` runs). */
const time = (
  f: () => void,
  warmup: number,
  maxRuns: number,
  seconds: number,
): { ms: number; runs: number } => {
  for (let i = 0; i < warmup; i++) f();
  const t0 = performance.now();
  let runs = 0;
  while (runs < maxRuns && (runs === 0 || performance.now() - t0 < seconds * 1000)) {
    f();
    runs++;
  }
  return { ms: (performance.now() - t0) / runs, runs };
};

const bench = (backend: string, kind: Kind): void => {
  const model = build(kind);
  const optimizer = tf.train.sgd(0.01);
  const x = tf.randomNormal([BATCH, 28, 28, 1]);
  const y = tf.oneHot(tf.randomUniform([BATCH], 0, 10, "int32"), 10);
  const step = () => {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar,
      true,
    );
    loss?.dataSync();
    loss?.dispose();
  };
  // The cpu CNN step takes tens of seconds: time it once, cold, rather than warm it up.
  const slow = backend === "cpu" && kind === "cnn";
  const train = time(step, slow ? 0 : 2, slow ? 1 : 50, SECONDS);
  const timeUpdate = (avg: Averager) => {
    const w0 = fromModel(model, { include: "all" });
    let state = avg.update(avg.init(), w0);
    disposeWeights(w0);
    const update = () => {
      const w = fromModel(model, { include: "all" });
      state = avg.update(state, w);
      disposeWeights(w);
      // cpu and wasm run kernels synchronously; read the smallest tensor (the last bias) anyway so
      // nothing is deferred, without timing a large copy out of the wasm heap.
      Object.values(state.mean!).at(-1)!.dataSync();
    };
    const before = tf.memory().numTensors;
    const t = time(update, 3, 200, SECONDS / 2);
    const leaked = tf.memory().numTensors - before;
    const params = numel(state.mean!);
    disposeState(state);
    return { ...t, leaked, params };
  };
  const upd = timeUpdate(swa());
  // The SWA rule as three elementwise kernels (sub, div, add): the baseline of the one-pass kernel.
  const threeOps =
    backend === "wasm"
      ? timeUpdate(fromRule((m, w, n) => tf.add(m, tf.div(tf.sub(w, m), n + 1))))
      : undefined;
  const leaked = upd.leaked + (threeOps?.leaked ?? 0);
  const params = upd.params;
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  console.log(
    `${backend.padEnd(4)} ${kind}: params ${params}, train step ${train.ms.toFixed(1)} ms (${train.runs} steps), ` +
      `swa update ${upd.ms.toFixed(2)} ms (${upd.runs} updates), ratio ${((100 * upd.ms) / train.ms).toFixed(2)} %` +
      `${
        threeOps === undefined
          ? ""
          : `; as three kernels ${threeOps.ms.toFixed(2)} ms (${((100 * threeOps.ms) / train.ms).toFixed(2)} %), one-pass speedup ${(threeOps.ms / upd.ms).toFixed(2)}x`
      }` +
      `${leaked === 0 ? "" : `, LEAKED ${leaked} tensors`}`,
  );
};

const main = async () => {
  console.log(
    `@wider/averaging bench: swa().update vs one SGD step, batch ${BATCH}, budget ${SECONDS}s per loop`,
  );
  await tf.setBackend("cpu");
  await tf.ready();
  for (const kind of ["mlp", "cnn"] as const) bench("cpu", kind);
  await initWasmTraining();
  for (const kind of ["mlp", "cnn"] as const) bench("wasm", kind);
};

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
