/**
 * The command line of `wider swap`: its usage line, its own flags split from the run's config
 * flags, and the checks of its numeric flags.
 *
 * @module
 */
import { AppError } from "../AppError.js";

/** The usage line of `wider swap`. */
export const swapUsage =
  "wider swap --redis URL --dir DIR --workers-jobs W [--swap-batch-size B] [--swap-lr-scale S] [--from RUN_DIR | config flags] [--report DIR] [--queue NAME] [--quiet]";

/** The flags of `wider swap` itself (everything else goes to the run's config parser). */
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

/** Splits `argv` into `wider swap`'s own flags and the run's config flags (`--x v` or `--x=v`). */
export const splitSwapArgs = (
  argv: readonly string[],
): { own: Partial<Record<OwnFlag, string>>; rest: string[]; help: boolean; quiet: boolean } => {
  const own: Partial<Record<OwnFlag, string>> = {};
  const rest: string[] = [];
  let help = false;
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--help") help = true;
    else if (a === "--quiet") quiet = true;
    else if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = (eq < 0 ? a.slice(2) : a.slice(2, eq)) as OwnFlag;
      if (ownFlags.includes(name)) {
        const value = eq < 0 ? argv[++i] : a.slice(eq + 1);
        if (value === undefined || (eq < 0 && value.startsWith("--")))
          throw new AppError(`swap: --${name} needs a value; usage: ${swapUsage}`);
        own[name] = value;
      } else rest.push(a);
    } else rest.push(a);
  }
  return { own, rest, help, quiet };
};

/** A positive number flag. */
export const positiveNumber = (flag: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n))
    throw new AppError(`${flag}: ${JSON.stringify(value)} is not allowed; expected a number > 0`);
  return n;
};
