import * as tf from "@tensorflow/tfjs";
import { beforeAll, expect } from "vitest";
import { fixtureSuite } from "./fixtureSuite.js";

beforeAll(async () => {
  expect(await tf.setBackend("cpu")).toBe(true);
});

fixtureSuite("cpu", 1e-30);
