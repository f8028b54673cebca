/**
 * Every model of the PyTorch fixture (scripts/make_fixtures.py builds the same networks in torch
 * 1.13) has exactly PyTorch's trainable parameter count, BN buffer count and numbers of conv,
 * dense and BN layers, and logits of PyTorch's width; and the README's table is these numbers.
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { readFixture, readmePath, renderTable, type TableRow } from "../scripts/readmeTable.js";
import { buildModel, modelKinds, parameterCounts } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const fixture = readFixture();
const rows: TableRow[] = [];

const countClass = (model: tf.LayersModel, name: string): number =>
  model.layers.filter((l) => l.getClassName() === name).length;

describe("parameter counts against PyTorch", () => {
  it("the fixture covers every kind at 10 and 100 classes", () => {
    for (const kind of modelKinds)
      for (const classes of [10, 100])
        expect(
          fixture.some((f) => f.spec.kind === kind && f.spec.classes === classes),
          `${kind} x ${classes}`,
        ).toBe(true);
  });

  it.each(fixture.map((f) => [JSON.stringify(f.spec), f] as const))("%s", (_, f) => {
    const start = tf.memory().numTensors;
    const built = buildModel(f.spec);
    if (built._tag === "Left") throw new Error(built.left.message);
    const model = built.right;
    const counts = parameterCounts(model);
    expect(counts.trainable).toBe(f.trainable);
    expect(counts.nonTrainable).toBe(f.bnBuffers);
    expect(countClass(model, "Conv2D")).toBe(f.convLayers);
    expect(countClass(model, "Dense")).toBe(f.denseLayers);
    expect(countClass(model, "BatchNormalization")).toBe(f.bnLayers);
    expect(model.outputs[0]!.shape).toEqual([null, f.logitsShape[1]]);
    rows.push({
      spec: f.spec,
      inputShape: model.inputs[0]!.shape.slice(1) as number[],
      trainable: counts.trainable,
      bnBuffers: counts.nonTrainable,
    });
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it("README.md holds the generated table (regenerate with `pnpm readme-table`)", () => {
    expect(rows.length).toBe(fixture.length);
    expect(readFileSync(readmePath, "utf8")).toContain(renderTable(rows));
  });
});
