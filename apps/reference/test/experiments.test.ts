/**
 * Issue 14's experiment files: both app configs decode and resolve to the authors' protocol, and
 * the PyTorch twin (`experiments/twin/twin.py`) computes what the app computes: the same schedules
 * and averaging/snapshot steps (against `makeSchedules`), the same training batches bit for bit
 * (against `@wider/data`), and the same metrics (against `@wider/ensembling`, 1e-12).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import {
  deriveSeed,
  gather,
  loadDataset,
  planBatches,
  shuffledIndices,
  toBatchTensors,
} from "@wider/data";
import { predictionMetrics } from "@wider/ensembling";
import * as E from "fp-ts/lib/Either.js";
import { beforeAll, describe, expect, it } from "vitest";
import { type Config, configFields, defaultConfig } from "../src/config.js";
import { decodePartial, resolveConfig } from "../src/configDecode.js";
import { buildAppModel } from "../src/models.js";
import { makeSchedules } from "../src/schedules.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const configPath = (model: string) => `${root}experiments/fashion-mnist-${model}.json`;

const load = (model: string): Config => {
  const path = configPath(model);
  const file = decodePartial(JSON.parse(readFileSync(path, "utf8")), { kind: "file", path });
  if (E.isLeft(file)) throw file.left;
  const c = resolveConfig(defaultConfig(), file.right);
  if (E.isLeft(c)) throw c.left;
  return c.right;
};

describe("experiments/fashion-mnist-{mlp,cnn}.json", () => {
  it.each(["mlp", "cnn"])(
    "%s: decodes, resolves and sets every field (no hidden defaults)",
    (m) => {
      const raw = JSON.parse(readFileSync(configPath(m), "utf8")) as Record<string, unknown>;
      expect(Object.keys(raw).sort()).toEqual([...configFields].sort());
      const c = load(m);
      expect(c).toMatchObject({
        dataset: "fashion-mnist",
        model: m,
        protocol: "authors",
        lr: 0.05,
        momentum: 0.9,
        weightDecay: 5e-4,
        batchSize: 128,
        swaLr: 0.01,
        swaEvery: 1,
        fgeLrMax: 0.05,
        fgeLrMin: 0.0005,
        pretrainSchedule: null,
        swaSchedule: null,
      });
      // swaStart = 0.8 B, SWA extended to 1.25 B; geometry: >= 10 rays, a segment and a plane.
      expect(c.swaStart).toBe(0.8 * c.epochs);
      expect(c.epochs + c.swaExtend).toBe(1.25 * c.epochs);
      expect(c.rays).toBeGreaterThanOrEqual(10);
      expect(c.segmentPoints).toBeGreaterThan(0);
      expect(c.planeGrid).toBeGreaterThan(0);
    },
  );

  it("MLP: 40 epochs, full set, no augmentation, FGE cycle 2; CNN: 20 epochs, 10,000 images, crop-flip, cycle 1", () => {
    expect(load("mlp")).toMatchObject({
      epochs: 40,
      swaStart: 32,
      swaExtend: 10,
      trainSubset: 0,
      augment: "none",
      fgeCycle: 2,
    });
    expect(load("cnn")).toMatchObject({
      epochs: 20,
      swaStart: 16,
      swaExtend: 5,
      trainSubset: 10000, // a seeded subset, named in every report (experiments/README.md)
      augment: "crop-flip",
      fgeCycle: 1,
    });
  });
});

// -------------------------------------------------------------------------------------------------
// the twin against the app
// -------------------------------------------------------------------------------------------------

const python = "/usr/bin/python3";
const hasTorch =
  spawnSync(python, ["-c", "import torch, numpy"], { encoding: "utf8" }).status === 0;
if (!hasTorch)
  console.warn(
    `experiments.test: ${python} with torch and numpy is missing; the twin checks are skipped`,
  );

/** Runs `code` in Python with the twin importable as `twin`, `req` (JSON) on stdin; its JSON stdout. */
const py = (code: string, req: unknown): unknown => {
  const r = spawnSync(
    python,
    [
      "-c",
      `import sys, json\nsys.path.insert(0, ${JSON.stringify(`${root}experiments/twin`)})\nimport twin\nreq = json.load(sys.stdin)\n${code}`,
    ],
    { input: JSON.stringify(req), encoding: "utf8", maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

describe.skipIf(!hasTorch)("experiments/twin/twin.py computes what the app computes", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  it.each(["mlp", "cnn"])(
    "%s: the same rates at every step and the same averaging and snapshot steps",
    (m) => {
      const config = load(m);
      const spe = 7; // a small epoch: every schedule boundary is still crossed
      const s = makeSchedules(config, spe);
      const got = py(
        `c = twin.load_config(req["path"], {})
spe = req["spe"]; B, S = c["epochs"], c["swaStart"]
budget, start, end = B * spe, S * spe, (B + c["swaExtend"]) * spe
cyc = twin.fge_cycle_steps(c, spe)
print(json.dumps({
  "sgd": [twin.authors_lr(c["lr"], 0.01 * c["lr"], B, k // spe) for k in range(budget)],
  "swa": [twin.authors_lr(c["lr"], c["swaLr"], S, k // spe) for k in range(end)],
  "fge": [twin.triangular_lr(c["fgeLrMax"], c["fgeLrMin"], cyc, k - start) for k in range(start, budget)],
  "swaSteps": [k for k in range(end) if twin.swa_collect(k, start, c["swaEvery"] * spe)],
  "fgeSteps": [k for k in range(start, budget) if twin.fge_collect(k, start, cyc)]}))`,
        { path: configPath(m), spe },
      ) as Record<string, number[]>;
      const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
      expect(got.sgd).toEqual(range(0, s.budgetStep).map(s.sgd));
      expect(got.swa).toEqual(range(0, s.swaEnd).map(s.swa));
      expect(got.fge).toEqual(range(s.swaStartStep, s.budgetStep).map(s.fge));
      expect(got.swaSteps).toEqual(range(0, s.swaEnd).filter(s.swaCollect));
      expect(got.fgeSteps).toEqual(range(s.swaStartStep, s.budgetStep).filter(s.fgeCollect));
      expect(got.fgeSteps?.length).toBeGreaterThan(0);
    },
  );

  it("the same training batch bit for bit: subset, epoch order, crop (pad 2) and flip draws, standardisation", async () => {
    const r = await loadDataset("fashion-mnist", {});
    if (E.isLeft(r)) throw new Error(r.left.message);
    const d = r.right;
    const [dataSeed, epoch, i, subset] = [3, 2, 4, 1000];
    const train = gather(d.train, shuffledIndices(d.train.count, dataSeed).subarray(0, subset));
    const plan = planBatches({
      count: subset,
      batchSize: 128,
      seed: deriveSeed(dataSeed, epoch),
      dropRemainder: true,
    });
    const b = toBatchTensors(train, plan[i] as Int32Array, {
      normalize: d.stats,
      oneHot: false,
      augment: { cropPadding: 2, horizontalFlip: true },
      seed: deriveSeed(deriveSeed(dataSeed + 1, epoch), i),
    });
    const want = { x: Array.from(b.xs.dataSync()), y: Array.from(b.ys.dataSync()) };
    tf.dispose([b.xs, b.ys]);
    const got = py(
      `c = twin.load_config(req["path"], {"trainSubset": req["subset"]}); c["dataSeed"] = req["seed"]
data = twin.load_data(c); spe = req["subset"] // 128
order = twin.shuffled_indices(req["subset"], twin.derive_seed(req["seed"], req["epoch"]))[: spe * 128].reshape(spe, 128)
x, y = twin.train_batch(data, c, req["epoch"], req["i"], order[req["i"]])
print(json.dumps({"x": x.reshape(-1).tolist(), "y": y.tolist()}))`,
      { path: configPath("cnn"), subset, seed: dataSeed, epoch, i },
    ) as { x: number[]; y: number[] };
    expect(got.y).toEqual(want.y);
    expect(got.x.length).toBe(want.x.length);
    expect(got.x.every((v, k) => Math.fround(v) === want.x[k])).toBe(true);
  });

  it("the same metrics as @wider/ensembling (accuracy, NLL, Brier, 15-bin ECE) to 1e-12", () => {
    // Random probabilities with ties, exact bin edges and a zero true-class probability.
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const n = 400;
    const k = 10;
    const probs: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const row = Array.from({ length: k }, () => rand() ** 3);
      const s = row.reduce((a, b) => a + b, 0);
      probs.push(row.map((v) => v / s));
      labels.push(Math.floor(rand() * k));
    }
    probs[0] = [0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0]; // a tie: the first index wins
    labels[0] = 1;
    probs[1] = [0.6, 0.4, 0, 0, 0, 0, 0, 0, 0, 0]; // confidence 0.6 = 9/15, a bin edge
    probs[2] = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // p(label) = 0: the NLL clip
    labels[2] = 3;
    const want = predictionMetrics({ data: probs.flat(), numClasses: k }, labels);
    if (E.isLeft(want)) throw new Error(want.left.message);
    const got = py(
      `import numpy as np\nprint(json.dumps(twin.metrics(np.array(req["p"], dtype=np.float64), np.array(req["y"]))))`,
      { p: probs, y: labels },
    ) as Record<string, number>;
    for (const m of ["accuracy", "nll", "brier", "ece"] as const)
      expect(Math.abs((got[m] as number) - want.right[m])).toBeLessThan(1e-12);
    expect(got.count).toBe(n);
  });
});

describe.skipIf(!hasTorch)(
  "experiments/twin: reading the app's weights (crosscheck.py, --init-from)",
  () => {
    beforeAll(async () => {
      await tf.setBackend("cpu");
    });

    it.each(["mlp", "cnn"] as const)(
      "%s: twin.from_wider turns the app's seeded weights into torch layouts with the same outputs (1e-4)",
      async (m) => {
        const model = buildAppModel(m, { imageShape: [28, 28, 1], classes: 10 }, 3);
        const weights: Record<string, { shape: number[]; data: number[] }> = {};
        for (const w of model.trainableWeights)
          weights[w.originalName] = {
            shape: w.shape as number[],
            data: Array.from(w.read().dataSync()),
          };
        const x = tf.randomNormal([3, 28, 28, 1], 0, 1, "float32", 5);
        const y = model.predict(x) as tf.Tensor;
        const want = Array.from(y.dataSync());
        const got = py(
          `import numpy as np, torch
named = {k: np.asarray(v["data"], dtype=np.float32).reshape(v["shape"]) for k, v in req["weights"].items()}
model = twin.build_model(req["model"])
with torch.no_grad():
    for p, w in zip(model.parameters(), twin.from_wider(req["model"], named)):
        assert tuple(p.shape) == tuple(w.shape), (p.shape, w.shape)
        p.copy_(w)
    x = torch.tensor(req["x"], dtype=torch.float32).reshape(3, 28, 28, 1).permute(0, 3, 1, 2)
    print(json.dumps(model(x).reshape(-1).tolist()))`,
          { model: m, weights, x: Array.from(x.dataSync()) },
        ) as number[];
        tf.dispose([x, y]);
        model.dispose();
        expect(got.length).toBe(want.length);
        // The app's model and the twin's compute the same function of the same weights.
        const worst = Math.max(...got.map((v, i) => Math.abs(v - (want[i] as number))));
        expect(worst).toBeLessThan(1e-4);
      },
    );
  },
);

describe("experiments/ablation: the MLP ablation's four cells", () => {
  const cells = ["0.01-none", "0.01-crop-flip", "0.05-none", "0.05-crop-flip"];
  const ablationPath = (cell: string) => `${root}experiments/ablation/mlp-swalr${cell}.json`;

  it.each(cells)(
    "mlp-swalr%s: the MLP protocol with only swaLr, augment and the analyses changed",
    (cell) => {
      const raw = JSON.parse(readFileSync(ablationPath(cell), "utf8")) as Record<string, unknown>;
      const mlp = JSON.parse(readFileSync(configPath("mlp"), "utf8")) as Record<string, unknown>;
      expect(Object.keys(raw).sort()).toEqual([...configFields].sort());
      const [lr, ...aug] = cell.split("-");
      // Only the cell's two settings and the analyses this table does not use (geometry, SWAG,
      // the longer SWA) differ from the MLP experiment: SGD and SWA are trained exactly as there.
      const changed = Object.keys(raw).filter(
        (k) => JSON.stringify(raw[k]) !== JSON.stringify(mlp[k]),
      );
      const expected = [
        "augment",
        "swaLr",
        "swaExtend",
        "swagRank",
        "rays",
        "segmentPoints",
        "planeGrid",
        "trajectoryGrid",
        "out",
      ];
      for (const k of changed) expect(expected).toContain(k);
      expect(raw.swaLr).toBe(Number(lr));
      expect(raw.augment).toBe(aug.join("-"));
      const file = decodePartial(raw, { kind: "file", path: ablationPath(cell) });
      expect(E.isRight(file) && E.isRight(resolveConfig(defaultConfig(), file.right))).toBe(true);
    },
  );
});
