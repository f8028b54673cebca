import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, expect } from "vitest";
import { fixtureSuite } from "./fixtureSuite.js";

// The same fixtures on wasm, through the tensor rules (no @wider/backend kernels in this file).
beforeAll(async () => {
  expect(await tf.setBackend("wasm")).toBe(true);
  await tf.ready();
});

fixtureSuite("wasm", 1e-30);
