/**
 * Redis connections from a URL: `redis://[user[:password]@]host[:port][/db]` and `rediss://…`
 * (TLS, passed through to ioredis as `tls: { servername }`, no `servername` for an IP host; a
 * private CA is trusted the Node way, `NODE_EXTRA_CA_CERTS=ca.pem`). The password is percent-decoded, so a
 * password with `@` or `:` is written `%40` / `%3A` in the URL.
 *
 * @module
 */
import { isIP } from "node:net";
import type { ConnectionOptions } from "bullmq";
import * as E from "fp-ts/lib/Either.js";
import type { RedisOptions } from "ioredis";
import { Redis } from "ioredis";
import { attemptSync, type DistributedError, fail } from "./errors.js";

/**
 * ioredis options for `url`. `maxRetriesPerRequest: null` is what BullMQ requires of a worker's
 * connection (a command waits for Redis to come back instead of failing after 20 retries).
 * A URL that is not `redis:`/`rediss:`, or whose port or database is not a number, is a
 * `Left<DistributedError>` (`kind: "config"`, `path` `"--redis"`): the URL comes from a command line.
 *
 * @example
 * redisOptions("redis://:s3cret@10.0.0.5:6379/2") // Right({ host: "10.0.0.5", port: 6379, password: "s3cret", db: 2, … })
 * redisOptions("http://host") // Left: '--redis: "http:" is not a Redis scheme; use redis:// or rediss:// (TLS)'
 */
export const redisOptions = (url: string): E.Either<DistributedError, RedisOptions> =>
  attemptSync(() => checkedOptions(url));

/** {@link redisOptions}, throwing (inside `attempt`, the caller's `Left`). */
const checkedOptions = (url: string): RedisOptions => {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    fail(
      "config",
      `--redis: ${JSON.stringify(url)} is not a URL; write it like redis://[:password@]host:6379[/db] (rediss:// for TLS)`,
      { path: "--redis", value: redactUrl(url) },
    );
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    fail(
      "config",
      `--redis: ${JSON.stringify(u.protocol)} is not a Redis scheme; use redis:// or rediss:// (TLS)`,
      { path: "--redis", value: redactUrl(url) },
    );
  const port = u.port === "" ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0)
    fail(
      "config",
      `--redis: database ${JSON.stringify(dbText)} is not a non-negative integer; write /0, /1, …`,
      { path: "--redis", value: redactUrl(url) },
    );
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "")
    fail("config", `--redis: ${JSON.stringify(url)} names no host`, {
      path: "--redis",
      value: redactUrl(url),
    });
  const options: RedisOptions = { host, port, db, maxRetriesPerRequest: null };
  if (u.username !== "") options.username = decodeURIComponent(u.username);
  if (u.password !== "") options.password = decodeURIComponent(u.password);
  // SNI carries host names only (RFC 6066; Node warns on an IP): an IP host is checked against the
  // certificate's IP addresses without it.
  if (u.protocol === "rediss:") options.tls = isIP(host) === 0 ? { servername: host } : {};
  return options;
};

/** `url` with its password replaced by `***`, for logs and messages. */
export const redactUrl = (url: string): string => url.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");

/**
 * A new ioredis client for `url` (see {@link redisOptions}; a bad URL is a `Left`); the caller
 * closes it (`quit()`). The client connects in the background: a Redis that cannot be reached
 * shows in the first command. With `failFast`, a command fails after a few reconnection tries
 * (about 1 s) instead of waiting for Redis: right for a command-line client, wrong for a worker.
 *
 * @example
 * const redis = orThrow(connect("redis://127.0.0.1:6379")); await redis.ping(); await redis.quit();
 */
export const connect = (
  url: string,
  options: { readonly failFast?: boolean } = {},
): E.Either<DistributedError, Redis> =>
  E.map((o: RedisOptions) =>
    options.failFast === true
      ? new Redis({
          ...o,
          maxRetriesPerRequest: 1,
          retryStrategy: (n: number) => (n > 4 ? null : 200),
        })
      : new Redis(o),
  )(redisOptions(url));

export { isRedisError } from "./errors.js";

/**
 * BullMQ's connection options for `url` (the same as {@link redisOptions}, a bad URL a `Left`;
 * BullMQ declares its own, looser copy of ioredis's option type, which ioredis's `tls` type does
 * not satisfy, hence the cast).
 */
export const bullConnection = (url: string): E.Either<DistributedError, ConnectionOptions> =>
  E.map((o: RedisOptions) => o as ConnectionOptions)(redisOptions(url));
