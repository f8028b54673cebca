/**
 * `pnpm experiment fashion-mnist [flags]`: the SWA paper's comparison on Fashion-MNIST.
 *
 * Flags: `--smoke` (CI: 512 images, a few steps, output in a temp-like folder, docs untouched),
 * `--epochs B`, `--seeds 0,1,2`, `--jobs N`, `--train-subset N`, `--data-dir DIR`, `--out DIR`
 * (default `docs/`), `--docs FILE` / `--no-docs`. Worker mode (internal): `--worker --seed S
 * --config-json JSON --result FILE`.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { repoRoot } from "../docs.js";
import { type ExperimentConfig, fullExperiment, smokeExperiment } from "./config.js";

/** A parsed experiment command. */
export type ExperimentCli =
  | {
      readonly kind: "run";
      readonly config: ExperimentConfig;
      readonly outDir: string;
      readonly docs: string | null;
      readonly command: string;
    }
  | {
      readonly kind: "worker";
      readonly config: ExperimentConfig;
      readonly seed: number;
      readonly result: string;
    };

const positiveInt = (flag: string, raw: string, min = 1): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${flag}: ${raw} is not allowed; expected an integer >= ${min}`);
  return n;
};

/** Parses argv (without node and the script); a mistake throws an Error naming the flag and the fix. */
export const parseExperimentCli = (argv: readonly string[]): ExperimentCli => {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      smoke: { type: "boolean" },
      epochs: { type: "string" },
      seeds: { type: "string" },
      jobs: { type: "string" },
      "train-subset": { type: "string" },
      "data-dir": { type: "string" },
      out: { type: "string" },
      docs: { type: "string" },
      "no-docs": { type: "boolean" },
      worker: { type: "boolean" },
      seed: { type: "string" },
      "config-json": { type: "string" },
      result: { type: "string" },
    },
  });
  if (values.worker === true) {
    if (
      values.seed === undefined ||
      values["config-json"] === undefined ||
      values.result === undefined
    ) {
      throw new Error("--worker needs --seed, --config-json and --result");
    }
    return {
      kind: "worker",
      config: JSON.parse(values["config-json"]) as ExperimentConfig,
      seed: positiveInt("--seed", values.seed, 0),
      result: values.result,
    };
  }
  const name = positionals[0] ?? "fashion-mnist";
  if (name !== "fashion-mnist" || positionals.length > 1) {
    throw new Error(
      `unknown experiment ${JSON.stringify(positionals.join(" "))}; the one experiment is fashion-mnist (pnpm experiment fashion-mnist)`,
    );
  }
  const smoke = values.smoke === true;
  let config: ExperimentConfig = smoke ? smokeExperiment : fullExperiment;
  if (values.epochs !== undefined)
    config = { ...config, epochs: positiveInt("--epochs", values.epochs) };
  if (values.jobs !== undefined) config = { ...config, jobs: positiveInt("--jobs", values.jobs) };
  if (values["train-subset"] !== undefined) {
    config = { ...config, trainSubset: positiveInt("--train-subset", values["train-subset"], 0) };
  }
  if (values["data-dir"] !== undefined) config = { ...config, dataDir: values["data-dir"] };
  if (values.seeds !== undefined) {
    const seeds = values.seeds.split(",").map((s) => positiveInt("--seeds", s.trim(), 0));
    if (new Set(seeds).size !== seeds.length)
      throw new Error(`--seeds: ${values.seeds} repeats a seed`);
    config = { ...config, seeds };
  }
  const root = repoRoot();
  const docs =
    values["no-docs"] === true || smoke
      ? (values.docs ?? null)
      : (values.docs ?? join(root, "docs", "results.md"));
  return {
    kind: "run",
    config,
    outDir: values.out ?? (smoke ? join(root, "bench", "results-local-smoke") : join(root, "docs")),
    docs,
    command: ["pnpm experiment", name, ...argv.filter((a) => a !== name)].join(" "),
  };
};
