/**
 * Sweeps: a spec (io-ts codec) names a base configuration, a grid of values to vary and the
 * seeds; it expands to one {@link RunJob} per (grid point, seed), each with its fingerprint. The
 * sweep's record (its jobs) is kept in Redis so `status` and `results` need only its name.
 *
 * @module
 */

import { decode, excess } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import type { Redis } from "ioredis";
import { attempt, attemptSync, type DistributedError, distributedError, fail } from "./errors.js";
import { fingerprint } from "./fingerprint.js";
import { Fingerprint, keys, NonNegativeInt, parseOrFail, type RunJob } from "./jobs.js";
import { type EnqueueSummary, enqueueOrFail } from "./store.js";

/** A sweep's name: letters, digits, `.`, `_`, `-` (it names directories and Redis fields). */
export const SweepName = t.refinement(
  t.string,
  (s) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s),
  "SweepName",
);

/** The sweep spec file (`sweep.json`). */
const SweepSpecFields = t.intersection(
  [
    t.type({
      /** The sweep's name (a re-submission with the same name must have the same spec). */
      name: SweepName,
      /** The configuration every job starts from (a partial config of the runner). */
      base: t.UnknownRecord,
      /** Seeds of each configuration. */
      seeds: t.array(NonNegativeInt),
    }),
    t.partial({
      /** Values per field; the jobs are the cartesian product (fields in the order written). */
      grid: t.record(t.string, t.array(t.unknown)),
    }),
  ],
  "SweepSpec",
);
/**
 * The sweep spec file (`sweep.json`); `t.exact` drops unknown keys, `decodeSweepSpec` refuses them.
 */
export const SweepSpec = t.exact(SweepSpecFields);
/** A sweep spec. */
export type SweepSpec = t.TypeOf<typeof SweepSpec>;

/**
 * Decodes a sweep spec (read from a JSON file: a Left, kind `config`, naming the field), refusing
 * unknown fields, empty seed lists and empty grid axes.
 *
 * @example
 * decodeSweepSpec({ name: "lr", base: {}, seeds: [] }, "sweep.json")
 * // Left: 'sweep.json: "seeds" is empty; list at least one seed, e.g. [0, 1, 2]'
 */
export const decodeSweepSpec = (
  json: unknown,
  origin = "sweep spec",
): E.Either<DistributedError, SweepSpec> => {
  // The intersection, not `SweepSpec` (`t.exact` around it): the same keys, refused when unknown.
  const decoded = decode(excess(SweepSpecFields), json, { tag: "DistributedError", root: origin });
  if (E.isLeft(decoded)) return decoded;
  const spec = decoded.right;
  const bad = (path: string, problem: string, fix: string, value?: unknown) =>
    E.left(
      distributedError("config", `${origin}: ${problem}; ${fix}`, {
        path: `${origin}.${path}`,
        ...(value === undefined ? {} : { value }),
        fix,
      }),
    );
  if (spec.seeds.length === 0)
    return bad("seeds", `"seeds" is empty`, "list at least one seed, e.g. [0, 1, 2]", spec.seeds);
  if (new Set(spec.seeds).size !== spec.seeds.length)
    return bad("seeds", `"seeds" repeats a seed`, "list each seed once", spec.seeds);
  for (const [k, v] of Object.entries(spec.grid ?? {})) {
    if (v.length === 0)
      return bad(`grid.${k}`, `grid.${k} is empty`, "give it at least one value or remove it", v);
    if (k in spec.base)
      return bad(`grid.${k}`, `${k} is both in base and in grid`, "keep it in one of them");
  }
  return E.right(spec);
};

/** The grid's points: one `{ field: value }` per combination, first field slowest. */
export const gridPoints = (
  grid: Readonly<Record<string, readonly unknown[]>>,
): Record<string, unknown>[] =>
  Object.entries(grid).reduce<Record<string, unknown>[]>(
    (acc, [k, values]) => acc.flatMap((p) => values.map((v) => ({ ...p, [k]: v }))),
    [{}],
  );

/**
 * The sweep's jobs: for each grid point, `resolve({ ...base, ...point })` (the runner's full,
 * validated configuration; identity by default), then one job per seed. A job's fingerprint is
 * the SHA-256 of its canonical inputs (`{ kind, config, seed }`), so the same run in two sweeps, or
 * a sweep submitted twice, is one job with one result. Two grid points that resolve to the same
 * configuration are a `Left` (`config`); what `resolve` throws passes through.
 *
 * @example
 * expandSweep({ name: "lr", base: { epochs: 2 }, grid: { lr: [0.05, 0.1] }, seeds: [0, 1] }) // Right: 4 jobs
 */
export const expandSweep = (
  spec: SweepSpec,
  resolve: (config: Record<string, unknown>) => Record<string, unknown> = (c) => c,
): E.Either<DistributedError, RunJob[]> =>
  attemptSync(() => {
    const jobs: RunJob[] = [];
    const seen = new Set<string>();
    for (const point of gridPoints(spec.grid ?? {})) {
      const config = resolve({ ...spec.base, ...point });
      const configKey = fingerprint(config);
      if (seen.has(configKey))
        fail(
          "config",
          `sweep ${spec.name}: two grid points give the same configuration (${JSON.stringify(point)}); remove the repeat`,
        );
      seen.add(configKey);
      for (const seed of spec.seeds)
        jobs.push({
          kind: "run",
          fingerprint: fingerprint({ kind: "run", config, seed }),
          sweep: spec.name,
          configKey,
          label: point,
          seed,
          config,
        });
    }
    return jobs;
  });

/** A sweep as recorded in Redis. */
export const SweepRecord = t.type({
  name: SweepName,
  specFingerprint: Fingerprint,
  createdAt: t.string,
  jobs: t.array(
    t.type({
      fingerprint: Fingerprint,
      configKey: Fingerprint,
      label: t.UnknownRecord,
      seed: NonNegativeInt,
    }),
  ),
});
/** A recorded sweep. */
export type SweepRecord = t.TypeOf<typeof SweepRecord>;

/**
 * Reads a sweep's record; a missing sweep is an `io` `Left<DistributedError>`, a record that does
 * not decode a `corrupt` one, a Redis failure an `io` one.
 */
export const readSweep = (
  redis: Redis,
  queue: string,
  name: string,
): Promise<E.Either<DistributedError, SweepRecord>> =>
  attempt(() => readSweepOrFail(redis, queue, name));

const readSweepOrFail = async (redis: Redis, queue: string, name: string): Promise<SweepRecord> => {
  const text = await redis.hget(keys(queue).sweeps, name);
  if (text === null) {
    const known = await redis.hkeys(keys(queue).sweeps);
    fail(
      "io",
      `no sweep named ${JSON.stringify(name)} in queue ${queue}${known.length > 0 ? ` (known: ${known.join(", ")})` : " (none submitted yet)"}; submit it first`,
    );
  }
  return parseOrFail(SweepRecord, text, `sweep ${name}'s record`);
};

/** The names of the sweeps recorded in `queue` (a Redis failure is a `Left`). */
export const listSweeps = (
  redis: Redis,
  queue: string,
): Promise<E.Either<DistributedError, string[]>> =>
  attempt(async () => (await redis.hkeys(keys(queue).sweeps)).sort());

/**
 * Records the sweep and enqueues its jobs (see {@link enqueue}). A sweep of the same name with a
 * different spec is a `Left` (`kind: "conflict"`); the same spec again adds only what is missing.
 * A Redis failure is a `Left` (`io`).
 */
export const submitSweep = (
  url: string,
  queue: string,
  redis: Redis,
  spec: SweepSpec,
  jobs: readonly RunJob[],
): Promise<E.Either<DistributedError, { record: SweepRecord; summary: EnqueueSummary }>> =>
  attempt(async () => {
    const specFingerprint = fingerprint(jobs.map((j) => j.fingerprint));
    const record: SweepRecord = {
      name: spec.name,
      specFingerprint,
      createdAt: new Date().toISOString(),
      jobs: jobs.map(({ fingerprint: fp, configKey, label, seed }) => ({
        fingerprint: fp,
        configKey,
        label,
        seed,
      })),
    };
    const k = keys(queue).sweeps;
    const created = await redis.hsetnx(k, spec.name, JSON.stringify(record));
    const kept = created === 1 ? record : await readSweepOrFail(redis, queue, spec.name);
    if (kept.specFingerprint !== specFingerprint)
      fail(
        "conflict",
        `sweep ${spec.name} was submitted before with other jobs; give this sweep another name (results of equal runs are shared anyway)`,
      );
    const summary = await enqueueOrFail(url, queue, redis, jobs);
    return { record: kept, summary };
  });
