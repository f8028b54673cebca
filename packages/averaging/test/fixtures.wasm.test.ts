import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, expect } from "vitest";
import { emaUpdateKernelName, momentsKernelName, swaUpdateKernelName } from "../src/index.js";
import { fixtureSuite } from "./fixtureSuite.js";

// The same PyTorch fixtures on the wasm backend (no training kernels needed: no gradients here).
// Without @wider/backend's one-pass kernels, so the tensor rules run (vitest isolates files;
// kernels.wasm.test.ts runs the fixtures through the kernels).
beforeAll(async () => {
  expect(await tf.setBackend("wasm")).toBe(true);
  await tf.ready();
  expect(tf.getKernel(swaUpdateKernelName, "wasm")).toBeUndefined();
  expect(tf.getKernel(emaUpdateKernelName, "wasm")).toBeUndefined();
  expect(tf.getKernel(momentsKernelName, "wasm")).toBeUndefined();
});

fixtureSuite("wasm", 0.1);
