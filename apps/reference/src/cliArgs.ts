/**
 * The command line of `wider`: the help text, parsing argv into config layers and a run mode
 * (user mistakes throw {@link AppError}), and resolving the run's config from those layers (over
 * the defaults or, on `--resume`, the checkpoint's config).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { redisOptions } from "@wider/distributed";
import type { Command } from "commander";
import * as E from "fp-ts/lib/Either.js";
import { AppError } from "./AppError.js";
import { readCheckpointConfig } from "./checkpoint.js";
import { subcommands } from "./commands/specs.js";
import { type Config, type ConfigFile, configFields, defaultConfig } from "./config.js";
import { decodePartial, flagOf, resolveConfig } from "./configDecode.js";
import { analysisFields, trainingDifferences } from "./configFields.js";
import { fieldFlags } from "./configHelp.js";
import { addFlags, commandOf, type Flag, type FlagValues, parseFlags } from "./flags.js";
import { checkpointDir, hasCheckpoint, noCheckpoint } from "./runChecks.js";
import { parseSeeds, readSeedsConfig } from "./seeds.js";

const numericFields = new Set<string>(
  configFields.filter((f) => typeof defaultConfig()[f] === "number"),
);
const jsonFields = new Set<string>(["pretrainSchedule", "swaSchedule"]);

/** The run's own flags (all but the config fields), each with its one line of `--help`. */
export const runFlags: readonly Flag[] = [
  {
    name: "config",
    value: "file",
    description:
      "JSON object with any of the config fields below (camelCase names); flags override it",
  },
  {
    name: "force",
    description: "overwrite the run in an existing --out directory (after every check passed)",
  },
  {
    name: "resume",
    description: `continue the run in --out from its last checkpoint; only ${analysisFields.join(", ")} may change`,
  },
  { name: "quiet", description: "no progress, only summary lines" },
  {
    name: "seeds",
    value: "list",
    description:
      "one run per seed (e.g. 0,1,2) in <out>/seed-<s>/, then aggregate.{json,md,html} in --out",
  },
  {
    name: "jobs",
    value: "n",
    description: "with --seeds: run N seeds at once, in child processes (default 1)",
  },
  {
    name: "docs",
    value: "file",
    description: "with --seeds: also write the aggregate into FILE's experiment section",
  },
  {
    name: "geometry-redis",
    value: "url",
    description: "evaluate the geometry points on wider worker processes (one job per point)",
  },
  {
    name: "geometry-dir",
    value: "dir",
    description: "with --geometry-redis: the directory shared with the workers (their --dir)",
  },
  {
    name: "geometry-queue",
    value: "name",
    description: "with --geometry-redis: the queue (default wider)",
  },
  { name: "help", description: "show this help" },
];

/** The `--help` heading of the config field flags. */
export const fieldsHeading =
  "Config fields (flag = kebab-case of the field; schedule specs are JSON, see @wider/schedules):";

/**
 * The `wider` command (a fresh one per parse): the run's flags, the config fields' flags, and the
 * subcommands, which have their own parsers (`wider sweep --help`); one given after a flag is refused.
 */
export const widerCommand = (): Command => {
  const cmd = commandOf(
    "wider",
    "SGD vs SWA vs FGE on real data, geometry of the solutions, and an HTML report.",
    "[--config file.json] [flags]\n       wider <command> [flags]",
  );
  addFlags(cmd, runFlags, "Run options:");
  addFlags(cmd, fieldFlags(), fieldsHeading);
  for (const spec of subcommands)
    cmd
      .command(spec.name)
      .description(spec.summary)
      .helpOption(false)
      .action(() => {
        throw new AppError(
          `${spec.name} must come first: wider ${spec.name} [flags] (see wider ${spec.name} --help)`,
        );
      });
  return cmd.action(() => {});
};

/** The help text of `wider`: every flag with its one-line description, and the subcommands. */
export const helpText = (): string =>
  `${widerCommand().helpInformation().trimEnd()}\n\nwider <command> --help shows a command's own flags.`;

const flagValue = (field: string, raw: string): unknown => {
  if (jsonFields.has(field)) {
    try {
      return JSON.parse(raw);
    } catch {
      throw new AppError(
        `flag ${flagOf(field)}: ${raw} is not valid JSON; expected a schedule spec object`,
      );
    }
  }
  if (field === "dataDir") return raw;
  if (numericFields.has(field) && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(raw))
    return Number(raw);
  return raw;
};

/** Parsed command line: the layers of config and the run mode. */
export interface Cli {
  readonly help: boolean;
  readonly force: boolean;
  readonly resume: boolean;
  readonly quiet: boolean;
  /** `--seeds`: the multi-seed mode's seeds (null: one run). */
  readonly seeds: readonly number[] | null;
  /** `--jobs`: seeds run at once. */
  readonly jobs: number;
  /** `--docs`: a Markdown file whose `experiment` section receives the aggregate. */
  readonly docs: string | null;
  /** `--geometry-redis` (with its shared directory and queue): distributed geometry points. */
  readonly geometryRedis: {
    readonly url: string;
    readonly dir: string;
    readonly queue: string;
  } | null;
  readonly file: ConfigFile;
  readonly flags: ConfigFile;
}

const parseJobs = (raw: FlagValues[string]): number => {
  if (typeof raw !== "string") return 1;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || Number(raw) > 64)
    throw new AppError(
      `--jobs: ${raw} is not allowed; expected an integer from 1 to 64 (seeds run at once)`,
    );
  return Number(raw);
};

/** `--geometry-redis URL --geometry-dir DIR [--geometry-queue NAME]`, checked now. */
const geometryRedisOf = (v: FlagValues): Cli["geometryRedis"] => {
  const url = v["geometry-redis"];
  const dir = v["geometry-dir"];
  if (typeof url !== "string") {
    if (dir !== undefined || v["geometry-queue"] !== undefined)
      throw new AppError("--geometry-dir and --geometry-queue apply with --geometry-redis URL");
    return null;
  }
  if (typeof dir !== "string" || dir === "")
    throw new AppError(
      "--geometry-redis: --geometry-dir DIR is required (the directory shared with the workers, their --dir)",
    );
  const checked = redisOptions(url);
  if (E.isLeft(checked))
    throw new AppError(checked.left.message.replace("--redis", "--geometry-redis"));
  const queue = v["geometry-queue"];
  return { url, dir: resolve(dir), queue: typeof queue === "string" ? queue : "wider" };
};

/** Parses argv (without `node` and the script); user mistakes throw {@link AppError}. */
export const parseCli = (argv: readonly string[]): Cli =>
  // `pnpm start -- --flag` passes the `--` on.
  cliOf(parseFlags(widerCommand(), argv[0] === "--" ? argv.slice(1) : argv));

/**
 * The {@link Cli} of parsed flag values (by long name; run flags absent from `values` take their
 * defaults): config flags decoded, the `--config` file read and decoded, run flags checked.
 */
export const cliOf = (v: FlagValues): Cli => {
  const flags: Record<string, unknown> = {};
  for (const f of configFields) {
    const raw = v[flagOf(f).slice(2)];
    if (typeof raw === "string") flags[f] = flagValue(f, raw);
  }
  const decodedFlags = decodePartial(flags, { kind: "flags" });
  if (E.isLeft(decodedFlags)) throw decodedFlags.left;
  let file: ConfigFile = {};
  const path = v.config;
  if (typeof path === "string") {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      throw new AppError(`--config: cannot read ${path}; check the path`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new AppError(
        `--config: ${path} is not valid JSON (${e instanceof Error ? e.message : String(e)})`,
      );
    }
    const decoded = decodePartial(json, { kind: "file", path });
    if (E.isLeft(decoded)) throw decoded.left;
    file = decoded.right;
  }
  return {
    help: v.help === true,
    force: v.force === true,
    resume: v.resume === true,
    quiet: v.quiet === true,
    seeds: typeof v.seeds === "string" ? parseSeeds(v.seeds) : null,
    jobs: parseJobs(v.jobs),
    docs: typeof v.docs === "string" ? v.docs : null,
    geometryRedis: geometryRedisOf(v),
    file,
    flags: decodedFlags.right,
  };
};

/**
 * `--workers N` with `--jobs M`: the seeds run at once each start N worker threads, so N * M must
 * not exceed the cores (replicas that meet at a barrier twice per step wait for whichever thread
 * was descheduled: oversubscribed, data-parallel training runs slower than one worker). Without
 * `--jobs` any N is accepted (the run's progress notes N above the cores).
 *
 * @example
 * checkWorkersJobs(2, 2, 2) // throws: "--workers 2 with --jobs 2 starts 4 training threads ..."
 */
export const checkWorkersJobs = (workers: number, jobs: number, cores: number): void => {
  if (jobs > 1 && workers > 1 && workers * jobs > cores)
    throw new AppError(
      `--workers ${workers} with --jobs ${jobs} starts ${workers * jobs} training threads on ${cores} cores; lower --jobs (seeds at once) or --workers (threads per seed) so that their product is at most ${cores}`,
    );
};

/** The output directory a command line names (on `--resume` it must name one). */
export const outOf = (cli: Cli): string | undefined => cli.flags.out ?? cli.file.out;

/**
 * Resolves the run's config: defaults (or, on `--resume`, the checkpoint's config, decoded with
 * the config codec), then the file, then the flags. On `--resume` only the analysis fields
 * (`analysisFields`: output directory, geometry sizes) may differ from the checkpoint's.
 */
export const configOf = async (cli: Cli): Promise<Config> => {
  if (cli.resume && cli.force)
    throw new AppError("--resume and --force contradict each other; pass one of them");
  let base = defaultConfig();
  if (cli.resume && cli.seeds !== null) {
    const out = outOf(cli);
    if (out === undefined)
      throw new AppError("--resume needs --out DIR naming the multi-seed run to continue");
    base = await readSeedsConfig(out);
  } else if (cli.resume) {
    const out = outOf(cli);
    if (out === undefined)
      throw new AppError("--resume needs --out DIR naming the run to continue");
    if (!hasCheckpoint(out)) throw noCheckpoint(out);
    base = await readCheckpointConfig(checkpointDir(out));
  }
  const r = resolveConfig(base, cli.file, cli.flags);
  if (E.isLeft(r)) throw r.left;
  if (cli.resume) {
    const changed = trainingDifferences(base, r.right);
    if (changed.length > 0)
      throw new AppError(
        `--resume: the run in ${r.right.out} was started with a different configuration (${changed
          .slice(0, 3)
          .map((d) => `${d.field} ${d.was}, now ${d.now}`)
          .join("; ")}); on --resume only ${analysisFields.join(", ")} may change`,
      );
  }
  checkWorkersJobs(r.right.workers, cli.jobs, availableParallelism());
  return r.right;
};
