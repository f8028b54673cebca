/**
 * The command line of `wider swap`: its own flags and the run's config flags in one commander
 * command (see `specs.ts` and `cliArgs.ts`), and the checks of its numeric flags.
 *
 * @module
 */
import { AppError } from "../AppError.js";
import { fieldsHeading, runFlags } from "../cliArgs.js";
import { configFields } from "../config.js";
import { flagOf } from "../configDecode.js";
import { fieldFlags } from "../configHelp.js";
import { addFlags, type FlagValues, givenFlags, parseFlags } from "../flags.js";
import { subcommandOf } from "./common.js";
import { swapSpec } from "./specs.js";

/** The usage line of `wider swap`. */
export const swapUsage = `wider swap ${swapSpec.usage}`;

/** The flags of `wider swap` itself (everything else is the run's config). */
const ownFlags = [
  "redis",
  "dir",
  "workers-jobs",
  "swap-batch-size",
  "swap-lr-scale",
  "from",
  "report",
  "queue",
] as const;
type OwnFlag = (typeof ownFlags)[number];

/** The run flags `wider swap` accepts: `--config`, and (hidden) those it refuses with a reason. */
const runFlagsOfSwap = runFlags
  .filter((f) => ["config", "force", "resume", "seeds"].includes(f.name))
  .map((f) => (f.name === "config" ? f : { ...f, hidden: true }));

/** The `wider swap` command: its own flags, `--config` and the config fields' flags. */
const swapCommandOf = () => {
  const cmd = subcommandOf(swapSpec);
  addFlags(cmd, runFlagsOfSwap, "Phase 1 (the run's config, as for wider; see wider --help):");
  return addFlags(cmd, fieldFlags(), fieldsHeading);
};

/** `wider swap --help`. */
export const swapHelp = (): string => swapCommandOf().helpInformation();

/**
 * Parses `wider swap`'s argv: its own flags, the run's flag values (for `cliOf`), the config flags
 * given (as `--flag value` text, refused with `--from`), `--help` and `--quiet`.
 */
export const parseSwapArgs = (
  argv: readonly string[],
): {
  own: Partial<Record<OwnFlag, string>>;
  values: FlagValues;
  configFlags: string[];
  help: boolean;
  quiet: boolean;
} => {
  const values = parseFlags(swapCommandOf(), argv);
  const own: Partial<Record<OwnFlag, string>> = {};
  for (const name of ownFlags) {
    const v = values[name];
    if (typeof v === "string") own[name] = v;
  }
  const configFlags = givenFlags(values, [
    "config",
    ...configFields.map((f) => flagOf(f).slice(2)),
  ]);
  return { own, values, configFlags, help: values.help === true, quiet: values.quiet === true };
};

/** A positive number flag. */
export const positiveNumber = (flag: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n))
    throw new AppError(`${flag}: ${JSON.stringify(value)} is not allowed; expected a number > 0`);
  return n;
};
