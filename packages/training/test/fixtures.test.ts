import * as tf from "@tensorflow/tfjs";
import { beforeAll } from "vitest";
import { fixtureSuite } from "./fixtureSuite.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

fixtureSuite("cpu");
