// A second copy of TensorFlow.js (tfjs-core + tfjs-layers 4.21.0, installed with plain npm from
// the registry into a temp folder and loaded from there) drives model.fit with the callbacks of
// @wider/averaging, @wider/swag and @wider/ensembling, which import the workspace's 4.22.0 copy.
// Each must fail with the error naming the duplicate and the fix, not tfjs's
// "TypeError: this.policy is not a function". No registry, no test: it fails, it never skips.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as Tf from "@tensorflow/tfjs";
import { averagingCallback, learningRateScheduler, swa, swaCallback, when } from "@wider/averaging";
import { collectAt, snapshotCallback } from "@wider/ensembling";
import { constant } from "@wider/schedules";
import { swag, swagCallback } from "@wider/swag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const OTHER = "4.21.0";
const scratch = mkdtempSync(join(tmpdir(), "wider-second-tfjs-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// The second copy, typed as the workspace's @tensorflow/tfjs (which re-exports core and layers).
let core2: typeof Tf;
let layers2: typeof Tf;

beforeAll(async () => {
  writeFileSync(
    join(scratch, "package.json"),
    JSON.stringify({ name: "second-tfjs", private: true }),
  );
  const install = spawnSync(
    "npm",
    [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--fetch-retries=1",
      `@tensorflow/tfjs-core@${OTHER}`,
      `@tensorflow/tfjs-layers@${OTHER}`,
      `@tensorflow/tfjs-backend-cpu@${OTHER}`,
    ],
    { cwd: scratch, encoding: "utf8", timeout: 150_000 },
  );
  expect(
    install.status,
    `npm install of a second tfjs ${OTHER} failed (is the npm registry reachable?):\n${install.stderr}`,
  ).toBe(0);
  const req = createRequire(join(scratch, "package.json"));
  core2 = req("@tensorflow/tfjs-core") as typeof Tf;
  layers2 = req("@tensorflow/tfjs-layers") as typeof Tf;
  req("@tensorflow/tfjs-backend-cpu");
  await core2.setBackend("cpu");
}, 200_000);

const fitWith = async (callback: unknown): Promise<unknown> => {
  const model = layers2.sequential({
    layers: [layers2.layers.dense({ units: 2, inputShape: [3], name: "out" })],
  });
  model.compile({ optimizer: core2.train.sgd(0.1), loss: "meanSquaredError" });
  const x = core2.ones([8, 3]);
  const y = core2.zeros([8, 2]);
  try {
    // The callback is typed against the workspace copy: the cast is the point of the test.
    await model.fit(x, y, { epochs: 1, batchSize: 4, callbacks: [callback as Tf.Callback] });
    return "fit resolved";
  } catch (e) {
    return e;
  } finally {
    core2.dispose([x, y]);
    model.dispose();
  }
};

const duplicateError = (name: string) =>
  new RegExp(
    `^${name}: model\\.fit called this callback's hook on another object: the model comes from a ` +
      "second copy of @tensorflow/tfjs-layers \\(this package loaded 4\\.22\\.0\\).*" +
      "npm ls @tensorflow/tfjs-core @tensorflow/tfjs-layers.*npm dedupe",
    "s",
  );

describe(`model.fit of a second tfjs-layers (${OTHER})`, () => {
  it("loaded a real second copy", () => {
    expect(layers2.version_layers).toBe(OTHER);
    expect(core2.version_core).toBe(OTHER);
  });

  const collector = collectAt(() => true, { maxCount: 2, store: "memory" });
  const cases: ReadonlyArray<readonly [string, () => object]> = [
    ["SwaCallback", () => swaCallback({ schedule: constant(0.1), start: 0, collect: when() })],
    ["AveragingCallback", () => averagingCallback({ averager: swa(), policy: when() })],
    ["LearningRateCallback", () => learningRateScheduler({ schedule: constant(0.1) })],
    ["SwagCallback", () => swagCallback({ swag: swag(), policy: when() })],
    ["SnapshotCallback", () => snapshotCallback({ collector })],
  ];
  for (const [name, make] of cases) {
    it(`${name}: fails with the duplicate-copy error and the fix`, async () => {
      const cb = make();
      const err = await fitWith(cb);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(duplicateError(name));
      expect((err as Error).message).not.toContain("this.policy is not a function");
    });

    it(`${name}: setModel refuses the other copy's model`, () => {
      const cb = make() as unknown as { setModel: (m: unknown) => void };
      const model = layers2.sequential({
        layers: [layers2.layers.dense({ units: 1, inputShape: [1] })],
      });
      expect(() => cb.setModel(model)).toThrow(duplicateError(name));
      model.dispose();
    });
  }
});
