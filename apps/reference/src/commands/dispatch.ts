/**
 * The distributed subcommands' entry: `wider sweep …`, `wider swap …` and `wider worker …` go to their commands;
 * anything else returns `null` and goes to the ordinary `main`.
 *
 * @module
 */
import { AppError } from "../AppError.js";
import { swapCommand } from "./swap.js";
import { sweepCommand } from "./sweep.js";
import { workerCommand } from "./worker.js";

const report = (e: unknown): number => {
  if (e instanceof AppError) {
    process.stderr.write(`wider: ${e.message}\n`);
    return e.exitCode;
  }
  throw e;
};

/** Runs a distributed subcommand (exit code), or `null` when `argv` is not one. */
export const dispatchDistributed = (argv: readonly string[]): Promise<number> | null => {
  const [first, ...rest] = argv;
  if (first === "sweep") return sweepCommand(rest).catch(report);
  if (first === "swap") return swapCommand(rest).catch(report);
  if (first === "worker") return workerCommand(rest).catch(report);
  return null;
};
