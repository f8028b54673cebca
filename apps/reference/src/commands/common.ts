/**
 * Shared pieces of the subcommands: flag parsing (commander, see `flags.ts`) with clear errors, the Redis
 * URL check, and the translation of the distributed package's errors into {@link AppError}s.
 *
 * @module
 */
import {
  connect,
  type DistributedError,
  isDistributedError,
  isRedisError,
  isRedisFailure,
  redisFailure,
  redisOptions,
} from "@wider/distributed";
import type { Command } from "commander";
import * as E from "fp-ts/lib/Either.js";
import type { Redis } from "ioredis";
import { AppError } from "../AppError.js";
import { addFlags, commandOf, type FlagValues, parseFlags } from "../flags.js";
import type { CommandSpec } from "./specs.js";

/** Parsed flag values by long name (strings, `true` for switches, lists for repeatable flags). */
export type { FlagValues } from "../flags.js";

/** A string flag's value, or `undefined` (a switch or list where a string is expected). */
export const str = (v: FlagValues[string]): string | undefined =>
  typeof v === "string" ? v : undefined;

/** The commander command of a subcommand: `wider <name>` with its flags and their descriptions. */
export const subcommandOf = (spec: CommandSpec): Command =>
  addFlags(commandOf(`wider ${spec.name}`, spec.summary, spec.usage), spec.flags, "Options:");

/**
 * Parses a subcommand's `argv` strictly: an unknown flag, a missing value or a stray argument is
 * an {@link AppError} (exit 2) naming it and pointing at `wider <name> --help`.
 */
export const parseSubcommand = (spec: CommandSpec, argv: readonly string[]): FlagValues =>
  parseFlags(subcommandOf(spec), argv);

/** The `--help` text of a subcommand. */
export const subcommandHelp = (spec: CommandSpec): string => subcommandOf(spec).helpInformation();

/** The `--redis` URL, checked now (scheme, port, database) so a typo fails before any work. */
export const redisFlag = (command: string, value: unknown, usage: string): string => {
  if (typeof value !== "string" || value === "")
    throw new AppError(
      `${command}: --redis URL is required (redis://[:password@]host:6379[/db], rediss:// for TLS); usage: ${usage}`,
    );
  const checked = redisOptions(value);
  if (E.isLeft(checked)) throw appErrorOf(checked.left);
  return value;
};

/** A positive integer flag. */
export const positiveInt = (flag: string, value: unknown, fallback: number): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value) || n < 1)
    throw new AppError(
      `${flag}: ${JSON.stringify(value)} is not allowed; expected an integer >= 1`,
    );
  return n;
};

/**
 * A fail-fast client for a command (see `connect`) that remembers the last connection error, so a
 * refused TLS certificate or a closed port is named instead of only "max retries reached".
 */
export const cliConnect = (url: string): { client: Redis; lastError: () => Error | null } => {
  const client = orAppError(connect(url, { failFast: true }));
  let last: Error | null = null;
  client.on("error", (e: Error) => {
    last = e;
  });
  return { client, lastError: () => last };
};

/**
 * The {@link AppError} of a `DistributedError`: exit 1 at run time (`io`: Redis, files, a missing
 * sweep), else 2; a Redis failure names the last connection error `lastError` saw.
 */
export const appErrorOf = (
  e: DistributedError,
  lastError: () => Error | null = () => null,
): AppError => {
  if (!isRedisFailure(e)) return new AppError(e.message, e.kind === "io" ? 1 : 2);
  const line = String(e.value);
  const cause = lastError()?.message.split("\n")[0];
  const why = cause === undefined || cause === line ? "" : ` (connection: ${cause})`;
  return new AppError(`Redis: ${line}${why}; ${e.fix ?? ""}`, 1);
};

/** The value of a `Right`, or the `Left` thrown as an {@link AppError} (see {@link appErrorOf}). */
export const orAppError = <A>(
  r: E.Either<DistributedError, A>,
  lastError: () => Error | null = () => null,
): A => {
  if (E.isLeft(r)) throw appErrorOf(r.left, lastError);
  return r.right;
};

/**
 * Runs `f`, turning a thrown `DistributedError` or Redis error (from the app's own Redis
 * commands) into an {@link AppError} (see {@link appErrorOf}).
 */
export const asAppErrors = async <A>(
  f: () => Promise<A>,
  lastError: () => Error | null = () => null,
): Promise<A> => {
  try {
    return await f();
  } catch (e) {
    if (isDistributedError(e)) throw appErrorOf(e, lastError);
    if (isRedisError(e)) throw appErrorOf(redisFailure(e), lastError);
    throw e;
  }
};
