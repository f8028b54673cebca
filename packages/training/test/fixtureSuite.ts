import * as tf from "@tensorflow/tfjs";
import type { Weights } from "@wider/weights";
import { describe, expect, it } from "vitest";
import {
  adam,
  adamw,
  applyUpdates,
  disposeOptState,
  type Optimizer,
  type OptState,
  sgd,
  softmaxCrossEntropy,
} from "../src/index.js";
import lossFx from "./fixtures/loss.json" with { type: "json" };
import optFx from "./fixtures/optimizers.json" with { type: "json" };
import { expectClose, type FixtureTensor, toWeights } from "./helpers.js";

/**
 * Tolerances of the torch fixtures, per entry |ours - torch| <= rtol * max(|torch|, FLOOR):
 * - each step alone (from PyTorch's weights and state after the previous step): rtol 1e-6;
 * - the whole 20-step run from the initial weights: rtol 1e-5 (float32 rounding differences
 *   compound through the momentum and Adam moments; the measured worst is printed).
 * FLOOR = 0.1 (so an absolute 1e-7 on the per-step check) because the fixture's values are of
 * order 1 (standard normal weights and gradients) and PyTorch rounds differently from tfjs:
 * it fuses `w + alpha * d` into one rounding (vectorised fmadd) and divides by a scalar as a
 * multiply by its reciprocal, so results differ by ~1 ulp of the order-1 terms (6e-8), which is
 * relatively large only for entries that cancel to near 0.
 */
const STEP_RTOL = 1e-6;
const RUN_RTOL = 1e-5;
const FLOOR = 0.1;

type Case = (typeof optFx.cases)[keyof typeof optFx.cases];

const optimizerOf = (c: Case): Optimizer => {
  const o = c.options as Record<string, unknown>;
  const num = (k: string) => (typeof o[k] === "number" ? { [k]: o[k] as number } : {});
  if (c.kind === "sgd") {
    return sgd({
      ...(num("momentum") as { momentum?: number }),
      ...(num("dampening") as { dampening?: number }),
      ...(o.nesterov === true ? { nesterov: true } : {}),
      ...(typeof o.weight_decay === "number" ? { weightDecay: o.weight_decay } : {}),
    });
  }
  const opts = {
    ...(Array.isArray(o.betas) ? { betas: [o.betas[0], o.betas[1]] as [number, number] } : {}),
    ...(num("eps") as { eps?: number }),
    ...(typeof o.weight_decay === "number" ? { weightDecay: o.weight_decay } : {}),
  };
  return c.kind === "adam" ? adam(opts) : adamw(opts);
};

const flat = (w: Readonly<Record<string, tf.Tensor>>, keys: string[]): number[] =>
  keys.flatMap((k) => Array.from(w[k]!.dataSync()));
const flatFx = (w: Readonly<Record<string, FixtureTensor>>, keys: string[]): number[] =>
  keys.flatMap((k) => w[k]!.values);

/** Registers the fixture tests under `label` (the backend the caller selected). */
export const fixtureSuite = (label: string): void => {
  const keys = Object.keys(optFx.initial);
  describe(`${label}: torch.optim fixtures (${optFx.steps} steps, changing lr)`, () => {
    for (const [name, c] of Object.entries(optFx.cases)) {
      const stateAt = (s: number, opt: Optimizer, weights: Weights): OptState =>
        s === 0
          ? opt.init(weights)
          : {
              count: s,
              slots: Object.fromEntries(
                Object.entries(
                  c.states[s - 1] as Record<string, Record<string, FixtureTensor>>,
                ).map(([slot, w]) => [slot, toWeights(w)]),
              ),
            };

      it(`${name}: each step from PyTorch's previous weights and state matches PyTorch ${optFx.torch} (rtol ${STEP_RTOL})`, () => {
        const start = tf.memory().numTensors;
        const opt = optimizerOf(c);
        optFx.grads.forEach((g, s) => {
          const weights = toWeights(
            s === 0 ? optFx.initial : (c.after[s - 1] as Record<string, FixtureTensor>),
          );
          const grads = toWeights(g);
          const { updates, state } = opt.update(
            grads,
            stateAt(s, opt, weights),
            weights,
            optFx.lrs[s]!,
          );
          const next = applyUpdates(weights, updates);
          expect(state.count).toBe(s + 1);
          expectClose(
            flat(next, keys),
            flatFx(c.after[s] as Record<string, FixtureTensor>, keys),
            STEP_RTOL,
            FLOOR,
            `${name} step ${s} weights`,
          );
          const refState = c.states[s] as Record<string, Record<string, FixtureTensor>>;
          expect(Object.keys(state.slots).sort()).toEqual(Object.keys(refState).sort());
          for (const [slot, ref] of Object.entries(refState)) {
            expectClose(
              flat(state.slots[slot]!, keys),
              flatFx(ref, keys),
              STEP_RTOL,
              FLOOR,
              `${name} step ${s} ${slot}`,
            );
          }
          tf.dispose([
            ...Object.values(weights),
            ...Object.values(updates),
            ...Object.values(grads),
            ...Object.values(next),
          ]);
          disposeOptState(state);
        });
        expect(tf.memory().numTensors).toBe(start);
      });

      it(`${name}: a 20-step run from the initial weights tracks PyTorch (rtol ${RUN_RTOL})`, () => {
        const start = tf.memory().numTensors;
        const opt = optimizerOf(c);
        let weights = toWeights(optFx.initial);
        let state = opt.init(weights);
        let worst = 0;
        optFx.grads.forEach((g, s) => {
          const grads = toWeights(g);
          const { updates, state: next } = opt.update(grads, state, weights, optFx.lrs[s]!);
          state = next;
          const w2 = applyUpdates(weights, updates);
          tf.dispose([
            ...Object.values(weights),
            ...Object.values(updates),
            ...Object.values(grads),
          ]);
          weights = w2;
          const ref = c.after[s] as Record<string, FixtureTensor>;
          worst = Math.max(
            worst,
            expectClose(
              flat(weights, keys),
              flatFx(ref, keys),
              RUN_RTOL,
              FLOOR,
              `${name} step ${s}`,
            ),
          );
        });
        expect(state.count).toBe(optFx.steps);
        const refState = c.states[optFx.steps - 1] as Record<string, Record<string, FixtureTensor>>;
        for (const [slot, ref] of Object.entries(refState)) {
          worst = Math.max(
            worst,
            expectClose(
              flat(state.slots[slot]!, keys),
              flatFx(ref, keys),
              RUN_RTOL,
              FLOOR,
              `${name} ${slot}`,
            ),
          );
        }
        console.log(
          `${label} ${name}: worst relative error over the run ${worst.toExponential(2)}`,
        );
        tf.dispose(Object.values(weights));
        disposeOptState(state);
        expect(tf.memory().numTensors).toBe(start);
      });
    }
  });

  describe(`${label}: torch.nn.CrossEntropyLoss fixtures`, () => {
    for (const c of lossFx.cases) {
      it(`label smoothing ${c.labelSmoothing}: loss and its gradient match PyTorch`, () => {
        const start = tf.memory().numTensors;
        const logits = tf.tensor2d(lossFx.logits.values, lossFx.logits.shape as [number, number]);
        const labels = tf.tensor1d(lossFx.labels, "int32");
        const loss = softmaxCrossEntropy({ labelSmoothing: c.labelSmoothing });
        const { value, grad } = tf.valueAndGrad((l: tf.Tensor) => loss(l, labels))(logits);
        expectClose(value.dataSync(), [c.loss], STEP_RTOL, FLOOR, "loss");
        expectClose(grad.dataSync(), c.grad, STEP_RTOL, FLOOR, "dloss/dlogits");
        tf.dispose([logits, labels, value, grad]);
        expect(tf.memory().numTensors).toBe(start);
      });
    }
  });
};
