/**
 * The subcommands of `wider` as `--help` shows them: name, one-line summary, usage and flags,
 * each flag with its one-line description. The commands parse with these; `wider --help` lists
 * the summaries.
 *
 * @module
 */
import type { Flag } from "../flags.js";

/** A subcommand: its name, one-line summary, usage line(s) and flags. */
export interface CommandSpec {
  readonly name: "sweep" | "swap" | "worker";
  readonly summary: string;
  readonly usage: string;
  readonly flags: readonly Flag[];
}

const redis: Flag = {
  name: "redis",
  value: "url",
  description: "Redis server: redis://[:password@]host:6379[/db], rediss:// for TLS",
};
const queue: Flag = {
  name: "queue",
  value: "name",
  description: "the BullMQ queue shared with the workers (default wider)",
};
const help: Flag = { name: "help", description: "show this help" };

/** `wider sweep`: a grid of configurations x seeds across machines. */
export const sweepSpec: CommandSpec = {
  name: "sweep",
  summary: "submit a sweep of configurations x seeds to Redis, follow it, or aggregate its results",
  usage: [
    "--spec sweep.json --redis URL [--queue NAME]",
    "       wider sweep status --redis URL [--name NAME] [--wait] [--queue NAME]",
    "       wider sweep results --redis URL --out DIR [--name NAME] [--queue NAME]",
  ].join("\n"),
  flags: [
    {
      name: "spec",
      value: "file",
      description: "the sweep's JSON spec (name, base config, grid, seeds) to submit",
    },
    redis,
    queue,
    {
      name: "name",
      value: "name",
      description: "status/results: the sweep to show (default: the only one in the queue)",
    },
    {
      name: "out",
      value: "dir",
      description: "results: directory for the per-configuration aggregates and sweep.md",
    },
    { name: "wait", description: "status: wait until every job is done or failed" },
    help,
  ],
};

/** `wider worker`: takes jobs from Redis. */
export const workerSpec: CommandSpec = {
  name: "worker",
  summary: "run sweep jobs, geometry points and SWAP members taken from Redis",
  usage: "--redis URL --dir DIR [--concurrency N] [--read DIR]... [--queue NAME]",
  flags: [
    redis,
    {
      name: "dir",
      value: "dir",
      description:
        "where runs are written (share it between machines to resume a dead worker's job)",
    },
    {
      name: "concurrency",
      value: "n",
      description: "worker processes to start on this machine (default 1)",
    },
    {
      name: "read",
      value: "dir",
      multiple: true,
      description: "a further directory jobs may read data from (repeatable)",
    },
    queue,
    {
      name: "lock-ms",
      value: "ms",
      description: "a job's lock time before another worker may take it over (default 60000)",
    },
    {
      name: "stalled-ms",
      value: "ms",
      description: "how often stalled jobs are looked for (default 30000)",
    },
    help,
  ],
};

/** `wider swap`: SWAP across machines (its config flags are the run's: see `wider --help`). */
export const swapSpec: CommandSpec = {
  name: "swap",
  summary: "SWAP across machines: phase 1 here, W member jobs on workers, then their average",
  usage:
    "--redis URL --dir DIR --workers-jobs W [--swap-batch-size B] [--swap-lr-scale S] [--from RUN_DIR | config flags] [--report DIR] [--queue NAME] [--quiet]",
  flags: [
    redis,
    {
      name: "dir",
      value: "dir",
      description: "the directory shared with the workers (give them the same --dir)",
    },
    { name: "workers-jobs", value: "w", description: "the number of SWAP members (worker jobs)" },
    {
      name: "swap-batch-size",
      value: "b",
      description: "the members' batch size (default a quarter of --batch-size)",
    },
    {
      name: "swap-lr-scale",
      value: "s",
      description: "the members' learning-rate factor (default member batch / --batch-size)",
    },
    {
      name: "from",
      value: "run_dir",
      description: "reuse this finished wider run as phase 1 (no config flags then)",
    },
    {
      name: "report",
      value: "dir",
      description: "where swap.{json,md,html} go (default the SWAP's directory under --dir)",
    },
    queue,
    { name: "quiet", description: "no progress, only summary lines" },
    help,
  ],
};

/** Every subcommand, in `--help` order. */
export const subcommands: readonly CommandSpec[] = [sweepSpec, swapSpec, workerSpec];
