// Runs the README's `swaCallback` example exactly as written: the code block is extracted from
// README.md, its `@wider/averaging` import pointed at the sources, a line exporting its results
// appended, and the module imported.
import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import type { SwaCallback } from "../src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const HEADING = "## Example: adding SWA to an existing `model.fit`";

/** The first ```ts block after `heading` in the README. */
const extractBlock = (readme: string, heading: string): string => {
  const at = readme.indexOf(heading);
  expect(at, `README heading "${heading}"`).toBeGreaterThanOrEqual(0);
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  expect(m, "a ts code block after the heading").not.toBeNull();
  return m![1]!;
};

interface ExampleModule {
  readonly swa: SwaCallback;
  readonly swaLoss: E.Either<unknown, number>;
  readonly sgdLoss: number;
  readonly model: tf.LayersModel;
  readonly x: tf.Tensor;
  readonly y: tf.Tensor;
}

describe("README: adding SWA to an existing model.fit", () => {
  it("runs as written: collections at each cycle's minimum, SWA weights evaluated and swapped back", async () => {
    const readme = await readFile(join(here, "..", "README.md"), "utf8");
    const block = extractBlock(readme, HEADING);
    expect(block).toContain('from "@wider/averaging"');
    const source = `${block.replace('from "@wider/averaging"', 'from "../../src/index.js"')}
export { swa, swaLoss, sgdLoss, model, x, y };
`;
    const dir = join(here, ".generated");
    const file = join(dir, `readme-swa-fit-${randomUUID()}.ts`);
    await mkdir(dir, { recursive: true });
    await writeFile(`${file}.tmp`, source);
    await rename(`${file}.tmp`, file);
    const start = tf.memory().numTensors;
    let ex: ExampleModule;
    try {
      ex = (await import(/* @vite-ignore */ file)) as ExampleModule;
    } finally {
      await rm(file, { force: true });
    }
    // 20 epochs x 8 steps; SWA from step 80 with 8-step cycles: collected at 87, 95, ..., 159.
    expect(ex.swa.step).toBe(160);
    expect(ex.swa.collections).toEqual(
      Array.from({ length: 10 }, (_, k) => ({ step: 87 + 8 * k, rate: 0.005 })),
    );
    expect(ex.swa.averaged).toBeNull(); // the example disposed it
    expect(E.isRight(ex.swaLoss)).toBe(true);
    const swaLoss = (ex.swaLoss as E.Right<number>).right;
    expect(Number.isFinite(swaLoss) && Number.isFinite(ex.sgdLoss)).toBe(true);
    expect(swaLoss).not.toBe(ex.sgdLoss); // the averaged weights really were swapped in
    // withWeights put the model's own weights back: evaluating again gives the last SGD loss.
    const again = tf.tidy(() => (ex.model.evaluate(ex.x, ex.y) as tf.Scalar).dataSync()[0]!);
    expect(again).toBe(ex.sgdLoss);
    // Once the example's model, optimizer and data are freed, nothing of the averaging is left.
    tf.dispose([ex.x, ex.y]);
    ex.model.optimizer.dispose();
    ex.model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
