import * as tf from "@tensorflow/tfjs";
import { assignToModel, disposeWeights, fromModel } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { type Averager, disposeState, ema, swa, updateBatchNorm } from "../src/index.js";
import averaging from "./fixtures/averaging.json" with { type: "json" };
import updateBn from "./fixtures/update_bn.json" with { type: "json" };
import { expectClose, type FixtureTensor, toWeights } from "./helpers.js";

/**
 * Tolerance for the averaging and update_bn fixtures: per entry,
 * |ours - torch| <= 1e-6 * max(|torch|, floor), with floor = 1e-30 on cpu (pure relative; the floor
 * only avoids 0/0) and floor = 0.1 on wasm (its float32 conv/matmul sum in another order, so
 * BN means near 0.03 differ by ~3e-8 absolute, ~1e-6 relative). The end-to-end eval output
 * (conv, matmuls) is checked at 1e-5 with the same floor.
 */
const RTOL = 1e-6;

type AveragerSpec = { kind: string; decay?: number; warmup?: { gamma: number; power: number } };
const averagerOf = (spec: AveragerSpec, buffers: "average" | "copy"): Averager =>
  spec.kind === "swa"
    ? swa({ buffers })
    : ema({
        decay: spec.decay!,
        buffers,
        ...(spec.warmup === undefined ? {} : { warmup: spec.warmup }),
      });

const buildNet = () => {
  const head = tf.sequential({
    name: "head",
    layers: [
      tf.layers.dense({ units: 8, inputShape: [64], name: "fc1" }),
      tf.layers.batchNormalization({ name: "bn1", epsilon: updateBn.epsilon }),
      tf.layers.reLU(),
      tf.layers.dense({ units: 3, name: "fc2" }),
    ],
  });
  const net = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 3, name: "conv" }),
      tf.layers.batchNormalization({ name: "bn2", epsilon: updateBn.epsilon }),
      tf.layers.reLU(),
      tf.layers.flatten(),
      head,
    ],
  });
  const w = toWeights(updateBn.weights as Record<string, FixtureTensor>);
  const r = assignToModel(net, w);
  if (E.isLeft(r)) throw new Error(r.left.message);
  disposeWeights(w);
  return net;
};

/** Registers the fixture tests under `label` (the backend the caller selected). */
export const fixtureSuite = (label: string, FLOOR: number): void => {
  const worst: Record<string, number> = {};
  describe(`${label}: AveragedModel fixtures (torch.optim.swa_utils)`, () => {
    for (const [name, c] of Object.entries(averaging.cases)) {
      it(`${name}: the running mean after every update matches PyTorch`, () => {
        const before = tf.memory().numTensors;
        const avg = averagerOf(c.averager as AveragerSpec, c.buffers as "average" | "copy");
        let s = avg.init();
        averaging.sequence.forEach((ws, i) => {
          const w = toWeights(ws as Record<string, FixtureTensor>);
          s = avg.update(s, w);
          disposeWeights(w);
          const want = c.means[i]! as Record<string, number[]>;
          for (const [k, ref] of Object.entries(want)) {
            const e = expectClose(
              s.mean![k]!.dataSync(),
              ref,
              RTOL,
              FLOOR,
              `${name} step ${i} ${k}`,
            );
            worst[name] = Math.max(worst[name] ?? 0, e);
          }
        });
        expect(s.n).toBe(c.n_averaged);
        disposeState(s);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });

  describe(`${label}: update_bn fixtures (conv BatchNorm2d + nested dense BatchNorm1d)`, () => {
    for (const weighting of ["batch", "samples"] as const) {
      it(`weighting "${weighting}" matches PyTorch ${weighting === "batch" ? "update_bn" : "authors' bn_update"}`, async () => {
        const net = buildNet();
        const batches = updateBn.batches.map((b) => tf.tensor(b.values, b.shape));
        const before = tf.memory().numTensors;
        await updateBatchNorm(net, batches, { weighting });
        expect(tf.memory().numTensors).toBe(before);
        const got = fromModel(net, { include: "all" });
        const want = updateBn[weighting] as Record<string, number[]>;
        for (const [k, ref] of Object.entries(want)) {
          const e = expectClose(got[k]!.dataSync(), ref, RTOL, FLOOR, `${weighting} ${k}`);
          worst[`update_bn/${weighting}`] = Math.max(worst[`update_bn/${weighting}`] ?? 0, e);
        }
        // Other weights are untouched.
        for (const k of ["conv/kernel", "fc1/kernel", "bn1/gamma"]) {
          expect(Array.from(got[k]!.dataSync())).toEqual(
            Array.from(
              Float32Array.from((updateBn.weights as Record<string, FixtureTensor>)[k]!.values),
            ),
          );
        }
        if (weighting === "batch") {
          // End to end: eval-mode outputs equal PyTorch's after update_bn (layouts mapped right).
          const y = net.predict(batches[0]!) as tf.Tensor;
          const e = expectClose(
            y.dataSync(),
            updateBn.eval_output_first_batch.values,
            1e-5,
            FLOOR,
            "eval output",
          );
          worst["update_bn/eval-output"] = e;
          y.dispose();
        }
        disposeWeights(got);
        tf.dispose(batches);
        net.dispose();
      });
    }

    it("reports the worst relative errors seen", () => {
      console.log(`${label} fixture worst relative errors:`, JSON.stringify(worst));
      expect(Object.keys(worst).length).toBeGreaterThan(0);
    });
  });
};
