// The README's first example, extracted from README.md and run as written (imports mapped to
// this package's source), so the README stays runnable.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import * as averaging from "@wider/averaging";
import * as schedules from "@wider/schedules";
import { expect, it } from "vitest";
import * as training from "../src/index.js";

const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");
const example = /## Example[^\n]*\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];

it("the README example runs: sgd + cosine + swa hook + runSteps", async () => {
  expect(example).toBeDefined();
  const modules: Record<string, unknown> = {
    "@tensorflow/tfjs": tf,
    "@wider/averaging": averaging,
    "@wider/schedules": schedules,
    "@wider/training": training,
  };
  // import lines become lookups in `modules`; the rest is the README's code, verbatim.
  const body = (example as string).replace(
    /import (\* as (\w+)|\{([^}]*)\}) from "([^"]+)";/g,
    (_m, _all, ns: string | undefined, names: string | undefined, from: string) =>
      ns !== undefined
        ? `const ${ns} = modules["${from}"];`
        : `const {${names}} = modules["${from}"];`,
  );
  const logs: string[] = [];
  const console = { log: (s: string) => logs.push(s) };
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  // The README's code is TypeScript without type-only syntax except `step: number`; strip that.
  const js = body.replace(/\(step: number\)/g, "(step)").replace(/\]!/g, "]");
  const run = new Function(
    "modules",
    "console",
    `return (async () => {\n${js}\nreturn model;\n})();`,
  );
  const model = (await run(modules, console)) as tf.LayersModel;
  expect(logs.at(-1)).toBe("averaged 5 models");
  expect(logs.filter((l) => l.startsWith("epoch ")).length).toBe(20);
  const first = Number(logs[0]!.split("loss ")[1]);
  const last = Number(logs[19]!.split("loss ")[1]);
  expect(last).toBeLessThan(first);
  model.dispose();
  expect(tf.memory().numTensors).toBe(before);
});
