import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, expect } from "vitest";
import { fixtureSuite } from "./fixtureSuite.js";

// The same PyTorch fixtures on the wasm backend (no training kernels needed: the loss gradient
// is a softmax and the optimizers are elementwise).
beforeAll(async () => {
  expect(await tf.setBackend("wasm")).toBe(true);
  await tf.ready();
});

fixtureSuite("wasm");
