/**
 * The errors of `@wider/distributed`, in the one Wider shape (`@wider/errors`).
 *
 * - **Returned** (`Left<DistributedError>`; the async functions resolve to `Either`): every
 *   recoverable fault. A bad Redis URL from a command line (`redisOptions`, `connect`,
 *   `bullConnection`, `openQueue`: `config`), a path outside the allowed directories (`confine`:
 *   `config`), a sweep spec read from a file (`decodeSweepSpec`, `expandSweep`: `config`), data in
 *   Redis that does not decode or was altered (`corrupt`), a plan that does not fit (`corrupt`,
 *   `shape`), a sweep, SWAP or evaluation that is missing or unfinished (`io`), a re-submission
 *   with other jobs (`conflict`), files that cannot be written or read (`io`), and a failure of
 *   Redis or the connection to it (`io`, `path: "redis"`, `value` the client's message).
 * - **Thrown** (a `WiderFailure` with `_tag: "DistributedError"`): programmer's mistakes written
 *   in code: `submitSwap`'s options (a bad `swapId`, `members`; `canonicalJson` of a non-JSON
 *   value throws a `TypeError`). Errors thrown by injected code (a handler, a `resolve` callback)
 *   pass through; in a worker, a handler's throw fails its job in BullMQ.
 *
 * @module
 */
import {
  type ErrorDetails,
  type ErrorKind,
  errorFor,
  isWiderError,
  raise,
  type WiderError,
} from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** An error of `@wider/distributed`; `message` says what to do about it (also in `fix` where known). */
export type DistributedError = WiderError<"DistributedError">;

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Builds a {@link DistributedError}. */
export const distributedError = errorFor("DistributedError");

/** Throws a {@link DistributedError} as a `WiderFailure` (inside {@link attempt}: becomes a `Left`). */
export function fail(kind: ErrorKind, message: string, details?: ErrorDetails): never {
  return raise(distributedError(kind, message, details));
}

/** The fix of a Redis failure. */
const REDIS_FIX =
  "check that redis-server runs at the --redis URL, that its password (redis://:PASSWORD@host:port) is right, and for rediss:// that its certificate is trusted (NODE_EXTRA_CA_CERTS=ca.pem)";

/**
 * The {@link DistributedError} of a failure of Redis or of the connection to it: `kind: "io"`,
 * `path: "redis"`, `value` the first line of the client's message.
 */
export const redisFailure = (e: Error): DistributedError => {
  const line = e.message.split("\n")[0] ?? e.message;
  return distributedError("io", `Redis: ${line}; ${REDIS_FIX}`, {
    path: "redis",
    value: line,
    fix: REDIS_FIX,
  });
};

// -------------------------------------------------------------------------------------
// refinements
// -------------------------------------------------------------------------------------

/** True for a {@link DistributedError}, thrown or returned. */
export const isDistributedError = (u: unknown): u is DistributedError =>
  isWiderError(u) && u._tag === "DistributedError";

/** Whether `e` is an error from Redis or the connection to it (not a bug of ours). */
export const isRedisError = (e: unknown): e is Error =>
  e instanceof Error &&
  (e.name === "ReplyError" ||
    e.name === "MaxRetriesPerRequestError" ||
    /NOAUTH|WRONGPASS|ECONNREFUSED|ETIMEDOUT|ENOTFOUND|Connection is closed/.test(e.message));

/** True for the {@link DistributedError} of a Redis failure (see {@link redisFailure}). */
export const isRedisFailure = (e: DistributedError): boolean =>
  e.kind === "io" && e.path === "redis";

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/** The plain (returned) form of a thrown {@link DistributedError}. */
const plain = (e: DistributedError): DistributedError =>
  distributedError(e.kind, e.message, {
    ...(e.path === undefined ? {} : { path: e.path }),
    ...(e.value === undefined ? {} : { value: e.value }),
    ...(e.fix === undefined ? {} : { fix: e.fix }),
  });

/**
 * Runs `f`, returning a thrown {@link DistributedError} or a Redis failure as a `Left`; anything
 * else (a bug, an error of injected code) still rejects.
 */
export const attempt = async <A>(f: () => Promise<A>): Promise<E.Either<DistributedError, A>> => {
  try {
    return E.right(await f());
  } catch (e) {
    if (isDistributedError(e)) return E.left(plain(e));
    if (isRedisError(e)) return E.left(redisFailure(e));
    throw e;
  }
};

/** The synchronous {@link attempt}. */
export const attemptSync = <A>(f: () => A): E.Either<DistributedError, A> => {
  try {
    return E.right(f());
  } catch (e) {
    if (isDistributedError(e)) return E.left(plain(e));
    throw e;
  }
};
