/**
 * JSON specs: every kind decodes and builds; bad specs are `Left`s naming the field, the value
 * and the fix; the typed builders throw the same messages; `hasBatchNorm` per model.
 */
import * as tf from "@tensorflow/tfjs";
import { isWiderError, WiderFailure } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildModel,
  cnn,
  decodeModelSpec,
  hasBatchNorm,
  type ModelSpec,
  ModelSpecCodec,
  type ModelsError,
  mlp,
  preresnet,
  vgg,
  vgg16,
} from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const errorOf = (json: unknown): ModelsError => {
  const d = decodeModelSpec(json);
  if (E.isRight(d)) throw new Error(`expected a Left for ${JSON.stringify(json)}`);
  expect(isWiderError(d.left)).toBe(true);
  expect(d.left._tag).toBe("ModelsError");
  expect(d.left.kind).toBe("config");
  return d.left;
};

describe("decodeModelSpec", () => {
  it("accepts specs with and without options", () => {
    const ok: unknown[] = [
      { kind: "mlp" },
      { kind: "mlp", hidden: [256, 128], classes: 100, seed: 0, inputShape: [28, 28, 1] },
      { kind: "cnn", filters: [8], dense: 16, batchNorm: true },
      { kind: "vgg", blocks: [[8], [8, 8]], dense: 8 },
      { kind: "preresnet", widths: [8, 16], blocksPerStage: 3 },
      { kind: "vgg16", dropout: 0 },
      { kind: "vgg16bn", classes: 100 },
      { kind: "preresnet110", seed: 2147483647 },
      { kind: "preresnet164" },
      { kind: "wrn28x10", dropout: 0.3 },
    ];
    for (const json of ok) expect(decodeModelSpec(json)).toEqual(E.right(json));
  });

  it.each([
    [null, "spec", "expected an object"],
    [[], "spec", "expected an object"],
    [{}, "spec.kind", 'got undefined; expected one of "mlp", "cnn"'],
    [{ kind: "resnet50" }, "spec.kind", 'got "resnet50"; expected one of'],
    [
      { kind: "mlp", hiden: [1] },
      "spec.hiden",
      "spec.hiden is not a known field (known: classes, hidden, inputShape, seed)",
    ],
    [{ kind: "vgg16", batchNorm: true }, "spec.batchNorm", "is not a known field"],
    [{ kind: "mlp", classes: 0 }, "spec.classes", "is 0; expected a positive integer"],
    [{ kind: "mlp", classes: 2.5 }, "spec.classes", "is 2.5; expected a positive integer"],
    [{ kind: "mlp", hidden: [512, 0] }, "spec.hidden", "is [512,0]; expected a non-empty array"],
    [{ kind: "mlp", hidden: [] }, "spec.hidden", "is []; expected a non-empty array"],
    [{ kind: "mlp", seed: -1 }, "spec.seed", "expected an integer from 0 to 2147483647"],
    [{ kind: "mlp", seed: 2 ** 31 }, "spec.seed", "expected an integer from 0 to 2147483647"],
    [
      { kind: "cnn", inputShape: [28, 28] },
      "spec.inputShape",
      "expected [height, width, channels]",
    ],
    [{ kind: "cnn", batchNorm: "yes" }, "spec.batchNorm", 'is "yes"; expected boolean'],
    [{ kind: "cnn", inputShape: [8, 8, 1] }, "spec.inputShape", "too small for 2 conv-pool stages"],
    [
      { kind: "vgg", blocks: [[8], []] },
      "spec.blocks",
      "expected a non-empty array of non-empty arrays",
    ],
    [{ kind: "vgg", inputShape: [4, 4, 1] }, "spec.inputShape", "needs at least 8x8"],
    [{ kind: "vgg16", inputShape: [28, 28, 1] }, "spec.inputShape", "needs at least 32x32"],
    [{ kind: "wrn28x10", dropout: 1 }, "spec.dropout", "is 1; expected a number in [0, 1)"],
  ] as const)("rejects %j at %s", (json, path, text) => {
    const e = errorOf(json);
    expect(e.path).toBe(path);
    expect(e.message.startsWith(`${path}: `) || e.message.startsWith(`${path} is `)).toBe(true);
    expect(e.message).toContain(text);
    // The value given is carried as `value` (where the spec has the field).
    if (path !== "spec" && path !== "spec.kind") {
      const field = path.slice("spec.".length);
      expect(e.value).toEqual((json as Record<string, unknown>)[field]);
    }
  });

  it("ModelSpecCodec composes into config codecs with the same messages", () => {
    const Config = t.type({ model: ModelSpecCodec });
    expect(E.isRight(Config.decode({ model: { kind: "cnn" } }))).toBe(true);
    const bad = Config.decode({ model: { kind: "cnn", dense: -1 } });
    expect(E.isLeft(bad) && bad.left[0]!.message).toContain("spec.dense is -1");
  });
});

describe("buildModel and the typed builders", () => {
  it("buildModel returns the model or the decoding error", () => {
    const start = tf.memory().numTensors;
    const ok = buildModel({ kind: "vgg", inputShape: [32, 32, 3], classes: 100 });
    expect(E.isRight(ok) && ok.right.outputs[0]!.shape).toEqual([null, 100]);
    if (E.isRight(ok)) ok.right.dispose();
    const bad = buildModel({ kind: "vgg", dense: 0 });
    expect(E.isLeft(bad) && bad.left.message).toBe("spec.dense is 0; expected a positive integer");
    expect(tf.memory().numTensors).toBe(start);
  });

  it("typed builders throw the same message, under their own name", () => {
    expect(() => mlp({ hidden: [0] })).toThrow(
      "mlp options.hidden is [0]; expected a non-empty array of positive integers",
    );
    expect(() => cnn({ inputShape: [5, 5, 1] })).toThrow("cnn options.inputShape");
    expect(() => vgg16({ dropout: -0.1 })).toThrow("vgg16 options.dropout is -0.1");
    // Thrown as a WiderFailure with the same fields as the Left.
    let thrown: unknown;
    try {
      mlp({ hidden: [0] });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(WiderFailure);
    expect(thrown).toMatchObject({
      _tag: "ModelsError",
      kind: "config",
      path: "mlp options.hidden",
      value: [0],
    });
    const spec = { kind: "mlp", hidden: [4] } as ModelSpec;
    const m = buildModel(spec);
    expect(E.isRight(m)).toBe(true);
    if (E.isRight(m)) m.right.dispose();
  });

  it("small models name their layers as the reference app did", () => {
    const names = (m: tf.LayersModel) => {
      const n = m.layers.map((l) => l.name);
      m.dispose();
      return n;
    };
    expect(names(mlp())).toEqual(["flatten", "fc1", "fc2", "logits"]);
    expect(names(cnn())).toEqual(["conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "logits"]);
    expect(names(vgg())).toEqual([
      "block1_conv1",
      "block1_conv2",
      "block1_pool",
      "block2_conv1",
      "block2_conv2",
      "block2_pool",
      "block3_conv1",
      "block3_pool",
      "flatten",
      "fc1",
      "logits",
    ]);
    expect(names(preresnet())).toEqual(
      expect.arrayContaining([
        "image",
        "stem_conv",
        "stage1_bn1",
        "stage2_shortcut",
        "stage3_add",
        "final_bn",
        "pool",
        "logits",
      ]),
    );
  });
});

describe("hasBatchNorm", () => {
  it.each([
    [{ kind: "mlp" }, false],
    [{ kind: "cnn" }, false],
    [{ kind: "cnn", batchNorm: true }, true],
    [{ kind: "vgg" }, false],
    [{ kind: "preresnet" }, true],
    [{ kind: "vgg16" }, false],
    [{ kind: "vgg16bn" }, true],
    [{ kind: "preresnet110" }, true],
  ] as const)("%j -> %s", (spec, expected) => {
    const m = buildModel(spec);
    if (E.isLeft(m)) throw new Error(m.left.message);
    expect(hasBatchNorm(m.right)).toBe(expected);
    m.right.dispose();
  });

  it("looks inside nested models", () => {
    const inner = preresnet();
    const outer = tf.sequential({ layers: [inner, tf.layers.dense({ units: 2 })] });
    expect(outer.layers.some((l) => l.getClassName() === "BatchNormalization")).toBe(false);
    expect(hasBatchNorm(outer)).toBe(true);
    outer.dispose();
  });
});
