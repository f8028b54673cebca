/**
 * The PyTorch peer: runs `python/torch_bench.py` (Debian's python3-torch 1.13) on the same shapes,
 * with the same thread count, and decodes its one JSON line. When PyTorch is absent (CI), or
 * disabled with `WIDER_BENCH_NO_TORCH=1`, the bench says so and goes on with the JS figures.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import type { BenchConfig } from "./config.js";

/** One figure of the PyTorch side (`value` in the unit of the matching JS figure). */
const TorchFigure = t.intersection([
  t.type({ value: t.number, runs: t.number }),
  t.partial({ stepMs: t.number }),
]);

/** The JSON line `torch_bench.py` prints. */
export const TorchOutput = t.type({
  torch: t.string,
  threads: t.number,
  blas: t.array(t.string),
  openblas: t.boolean,
  blasInfo: t.string,
  figures: t.record(t.string, TorchFigure),
});
/** The decoded output of the PyTorch peer. */
export type TorchOutput = t.TypeOf<typeof TorchOutput>;

/** The PyTorch peer ran: its output, the interpreter and the wall time. */
export interface TorchRun extends TorchOutput {
  readonly available: true;
  readonly python: string;
  readonly seconds: number;
}

/** The PyTorch peer did not run, and why. */
export interface TorchAbsent {
  readonly available: false;
  readonly reason: string;
}

/** The committed peer script. */
export const torchScript = (): string =>
  join(dirname(fileURLToPath(import.meta.url)), "..", "..", "python", "torch_bench.py");

/** Options of {@link runTorch}; defaults read `WIDER_PYTHON` and `WIDER_BENCH_NO_TORCH`. */
export interface TorchOptions {
  readonly python?: string;
  readonly disabled?: boolean;
  /** `"workers"`: only the workers section's figures (training, BN pass and one inference pass). */
  readonly only?: "workers";
}

/**
 * Runs the PyTorch peer on `config`'s shapes with `config.threads` threads (also exported as
 * OMP_NUM_THREADS and OPENBLAS_NUM_THREADS). Never throws: a missing interpreter, a missing torch
 * module or unreadable output is a {@link TorchAbsent} with the reason.
 *
 * @example
 * const peer = runTorch(fullConfig); if (peer.available) console.log(peer.figures["train/mlp"]);
 */
export const runTorch = (
  config: BenchConfig,
  options: TorchOptions = {},
): TorchRun | TorchAbsent => {
  const disabled = options.disabled ?? process.env.WIDER_BENCH_NO_TORCH === "1";
  if (disabled) {
    return { available: false, reason: "disabled by WIDER_BENCH_NO_TORCH=1" };
  }
  const python = options.python ?? process.env.WIDER_PYTHON ?? "/usr/bin/python3";
  const threads = String(config.threads);
  const started = performance.now();
  const input = options.only === undefined ? config : { ...config, only: options.only };
  const run = spawnSync(python, [torchScript(), JSON.stringify(input)], {
    encoding: "utf8",
    timeout: 15 * 60 * 1000,
    env: {
      ...process.env,
      OMP_NUM_THREADS: threads,
      OPENBLAS_NUM_THREADS: threads,
      MKL_NUM_THREADS: threads,
    },
  });
  const seconds = (performance.now() - started) / 1000;
  if (run.error !== undefined) {
    return {
      available: false,
      reason: `PyTorch not run: ${python} failed to start (${run.error.message})`,
    };
  }
  if (run.status !== 0) {
    const last = run.stderr.trim().split("\n").pop() ?? "";
    const why = /No module named .?torch/.test(run.stderr)
      ? "python3-torch is not installed (apt-get install python3-torch)"
      : `exit ${run.status}: ${last}`;
    return { available: false, reason: `PyTorch not available: ${why}` };
  }
  const line = run.stdout.trim().split("\n").pop() ?? "";
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return {
      available: false,
      reason: `PyTorch peer printed no JSON line (got ${JSON.stringify(line.slice(0, 80))})`,
    };
  }
  const decoded = TorchOutput.decode(json);
  if (E.isLeft(decoded)) {
    return { available: false, reason: "PyTorch peer printed JSON of an unexpected shape" };
  }
  return { available: true, python, seconds, ...decoded.right };
};
