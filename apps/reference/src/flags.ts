/**
 * The commander glue shared by `wider` and its subcommands: a flag is declared once with a
 * one-line description (shown by `--help`), and parsing turns commander's errors into one-line
 * {@link AppError}s (exit 2) naming the flag and pointing at `--help`.
 *
 * @module
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { AppError } from "./AppError.js";

/** One flag: its long name (without `--`), its value's name (none: a switch) and what it does. */
export interface Flag {
  /** Long name without the dashes, e.g. `batch-size`. */
  readonly name: string;
  /** The value's placeholder in `--help` (e.g. `n`); absent for a switch. */
  readonly value?: string;
  /** One line for `--help`: what the flag does (and its default, where it has one). */
  readonly description: string;
  /** The flag may be repeated; its values are collected in order. */
  readonly multiple?: boolean;
  /** Accepted but left out of `--help` (kept so that a misplaced flag gets a precise message). */
  readonly hidden?: boolean;
}

/** Parsed flags by long name: strings, `true` for a given switch, lists for repeatable flags. */
export type FlagValues = Readonly<Record<string, string | boolean | string[] | undefined>>;

/** A value that is itself a flag means the flag before it was given none (`--out --force`). */
const flagValueParser =
  (flag: Flag) =>
  (raw: string, previous: unknown): string | string[] => {
    if (raw.startsWith("--"))
      throw new InvalidArgumentError(`--${flag.name} needs a value before ${raw}`);
    if (flag.multiple === true) return [...(Array.isArray(previous) ? previous : []), raw];
    return raw;
  };

/** The commander option of a {@link Flag}. */
const optionOf = (flag: Flag, group?: string): Option => {
  const o = new Option(
    flag.value === undefined ? `--${flag.name}` : `--${flag.name} <${flag.value}>`,
    flag.description,
  );
  if (flag.value !== undefined) o.argParser(flagValueParser(flag));
  if (flag.hidden === true) o.hideHelp();
  if (group !== undefined) o.helpGroup(group);
  return o;
};

/**
 * A command (`wider`, `wider sweep`, ...) that parses without exiting or printing: add flag groups
 * with {@link addFlags}, then {@link parseFlags}. `--help` is an ordinary switch here (the caller
 * prints {@link Command.helpInformation}).
 */
export const commandOf = (name: string, summary: string, usage?: string): Command => {
  const cmd = new Command(name)
    .description(summary)
    .helpOption(false)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  if (usage !== undefined) cmd.usage(usage);
  return cmd;
};

/** Adds flags to a command, under a `--help` heading when given. */
export const addFlags = (cmd: Command, flags: readonly Flag[], group?: string): Command => {
  for (const f of flags) cmd.addOption(optionOf(f, group));
  return cmd;
};

/**
 * commander's error as one line naming the flag: `unknown flag --x (Did you mean --y?)`,
 * `--x needs a value <n>`, or the message of a value's own check.
 */
const messageOf = (e: CommanderError, cmd: Command): string => {
  const text = e.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ");
  switch (e.code) {
    case "commander.unknownOption":
      return text.replace(/^unknown option '([^']*)'/, "unknown flag $1");
    case "commander.optionMissingArgument":
      return text.replace(/^option '(--[\w-]+) (<[^>]*>)' argument missing/, "$1 needs a value $2");
    case "commander.invalidArgument":
      return text.replace(/^option '--[\w-]+(?: <[^>]*>)?' argument '[^']*' is invalid\. /, "");
    case "commander.excessArguments":
      return `unexpected argument ${JSON.stringify(cmd.args.at(-1) ?? "")} (flags start with --)`;
    default:
      return text;
  }
};

/**
 * Parses `argv` (without `node` and the script) with `cmd`: the values by long name, or an
 * {@link AppError} (exit 2) for an unknown flag, a missing value or a stray argument.
 *
 * @example
 * parseFlags(addFlags(commandOf("wider x", "…"), [{ name: "n", value: "n", description: "…" }]), ["--n", "3"]) // { n: "3" }
 */
export const parseFlags = (cmd: Command, argv: readonly string[]): FlagValues => {
  try {
    cmd.parse([...argv], { from: "user" });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    // The CLI prints `wider: <message>`: a subcommand names itself (`sweep: …`).
    const sub = cmd.name().replace(/^wider ?/, "");
    throw new AppError(
      `${sub === "" ? "" : `${sub}: `}${messageOf(e, cmd)}; see ${cmd.name()} --help`,
      2,
    );
  }
  const values: Record<string, string | boolean | string[] | undefined> = {};
  for (const o of cmd.options) {
    const v: unknown = cmd.getOptionValue(o.attributeName());
    if (typeof v === "string" || typeof v === "boolean" || Array.isArray(v))
      values[o.long?.slice(2) ?? o.attributeName()] = v as string | boolean | string[];
  }
  return values;
};

/** The flags of `values` given on the command line among `names`, as `--name value` text. */
export const givenFlags = (values: FlagValues, names: readonly string[]): string[] =>
  names.flatMap((n) => {
    const v = values[n];
    if (v === undefined || v === false) return [];
    if (v === true) return [`--${n}`];
    return (Array.isArray(v) ? v : [v]).map((x) => `--${n} ${x}`);
  });
