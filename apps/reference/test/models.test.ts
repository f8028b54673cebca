import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { modelKinds } from "@wider/models";
import { beforeAll, describe, expect, it } from "vitest";
import { ModelName } from "../src/config.js";
import { buildAppModel, hasBatchNorm, parameterCount } from "../src/models.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("the app's models come from @wider/models", () => {
  it("offers exactly the package's model kinds", () => {
    expect(Object.keys(ModelName.keys).sort()).toEqual([...modelKinds].sort());
  });
  it("builds the default MLP 784-512-256-10 reproducibly from its seed", () => {
    const a = buildAppModel("mlp", { imageShape: [28, 28, 1], classes: 10 }, 0);
    const b = buildAppModel("mlp", { imageShape: [28, 28, 1], classes: 10 }, 0);
    expect(parameterCount(a)).toBe(784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10);
    expect(hasBatchNorm(a)).toBe(false);
    expect(Array.from(a.getWeights()[0]?.dataSync() ?? [])).toEqual(
      Array.from(b.getWeights()[0]?.dataSync() ?? []),
    );
    a.dispose();
    b.dispose();
  });
  it("refuses a paper model on 28x28 images with the fix", () => {
    expect(() => buildAppModel("vgg16", { imageShape: [28, 28, 1], classes: 10 }, 0)).toThrow(
      /--model vgg16: .*need 32x32x3 images such as --dataset cifar10/,
    );
  });
});
