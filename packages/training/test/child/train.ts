// Child process of the kill test: trains with a checkpoint at every epoch's end, printing
// "saved <step>" after each save, slowly enough to be killed mid-run. Usage: train.ts <dir>
import * as tf from "@tensorflow/tfjs";
import { cosine } from "@wider/schedules";
import {
  checkpointEveryEpoch,
  initLoop,
  runSteps,
  sgd,
  softmaxCrossEntropy,
} from "../../src/index.js";
import { batchOf, buildClassifier, killRun } from "../model.js";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: train.ts <checkpoint dir>");
await tf.setBackend("cpu");
const model = buildClassifier();
const optimizer = sgd({ momentum: 0.9, weightDecay: 5e-4 });
await runSteps({
  model,
  optimizer,
  loss: softmaxCrossEntropy(),
  schedule: cosine({ from: killRun.lr, to: 0.001, steps: killRun.steps }),
  batches: (step) => batchOf(step),
  state: initLoop(model, optimizer),
  to: killRun.steps,
  stepsPerEpoch: killRun.stepsPerEpoch,
  hooks: [
    { onStep: () => new Promise((r) => setTimeout(r, 40)) },
    checkpointEveryEpoch({ dir, onSaved: (i) => console.log(`saved ${i.step}`) }),
  ],
});
console.log("done");
