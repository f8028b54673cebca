/**
 * Shared pieces of `wider sweep` and `wider worker`: flag parsing with clear errors, the Redis
 * URL check, and the translation of the distributed package's errors into {@link AppError}s.
 *
 * @module
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { connect, isDistributedError, isRedisError, redisOptions } from "@wider/distributed";
import type { Redis } from "ioredis";
import { AppError } from "../AppError.js";

/** Parsed flag values (strings, booleans, or lists for repeatable flags). */
export type FlagValues = Readonly<
  Record<string, string | boolean | Array<string | boolean> | undefined>
>;

/** A string flag's value, or `undefined` (a boolean or list where a string is expected is refused by the spec). */
export const str = (v: FlagValues[string]): string | undefined =>
  typeof v === "string" ? v : undefined;

/** Parses `argv` strictly: an unknown flag or a stray argument is an {@link AppError} naming it. */
export const parseFlags = (
  command: string,
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig["options"]>,
  usage: string,
): FlagValues => {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new AppError(
      `${command}: ${(e as Error).message.replace(/\. .*$/, "")}; usage: ${usage}`,
    );
  }
};

/** The `--redis` URL, checked now (scheme, port, database) so a typo fails before any work. */
export const redisFlag = (command: string, value: unknown, usage: string): string => {
  if (typeof value !== "string" || value === "")
    throw new AppError(
      `${command}: --redis URL is required (redis://[:password@]host:6379[/db], rediss:// for TLS); usage: ${usage}`,
    );
  redisOptions(value);
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
  const client = connect(url, { failFast: true });
  let last: Error | null = null;
  client.on("error", (e: Error) => {
    last = e;
  });
  return { client, lastError: () => last };
};

/**
 * Runs `f`, turning a `DistributedError` into an {@link AppError} (exit 2, or 1 at run time: `io`);
 * a Redis failure names the last connection error `lastError` saw.
 */
export const asAppErrors = async <A>(
  f: () => Promise<A>,
  lastError: () => Error | null = () => null,
): Promise<A> => {
  try {
    return await f();
  } catch (e) {
    if (isDistributedError(e)) throw new AppError(e.message, e.kind === "io" ? 1 : 2);
    if (isRedisError(e)) {
      const cause = lastError();
      const why =
        cause === null || cause === e ? "" : ` (connection: ${cause.message.split("\n")[0]})`;
      throw new AppError(
        `Redis: ${e.message.split("\n")[0]}${why}; check that redis-server runs at the --redis URL, that its password (redis://:PASSWORD@host:port) is right, and for rediss:// that its certificate is trusted (NODE_EXTRA_CA_CERTS=ca.pem)`,
        1,
      );
    }
    throw e;
  }
};
