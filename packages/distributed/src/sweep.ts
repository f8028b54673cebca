/**
 * Sweeps: a spec (io-ts codec) names a base configuration, a grid of values to vary and the
 * seeds; it expands to one {@link RunJob} per (grid point, seed), each with its fingerprint. The
 * sweep's record (its jobs) is kept in Redis so `status` and `results` need only its name.
 *
 * @module
 */

import * as t from "io-ts";
import type { Redis } from "ioredis";
import { DistributedError } from "./error.js";
import { fingerprint } from "./fingerprint.js";
import {
  decodeOrThrow,
  Fingerprint,
  keys,
  NonNegativeInt,
  parseAndDecode,
  type RunJob,
} from "./jobs.js";
import { type EnqueueSummary, enqueue } from "./store.js";

/** A sweep's name: letters, digits, `.`, `_`, `-` (it names directories and Redis fields). */
export const SweepName = t.refinement(
  t.string,
  (s) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s),
  "SweepName",
);

/** The sweep spec file (`sweep.json`). */
export const SweepSpec = t.exact(
  t.intersection([
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
  ]),
);
/** A sweep spec. */
export type SweepSpec = t.TypeOf<typeof SweepSpec>;

/** Decodes a sweep spec, refusing unknown fields, empty seed lists and empty grid axes. */
export const decodeSweepSpec = (json: unknown, origin = "sweep spec"): SweepSpec => {
  if (typeof json === "object" && json !== null && !Array.isArray(json)) {
    const extra = Object.keys(json).filter((k) => !["name", "base", "seeds", "grid"].includes(k));
    if (extra.length > 0)
      throw new DistributedError(
        "spec",
        `${origin}: unknown field(s) ${extra.join(", ")}; a sweep spec has name, base, grid and seeds`,
      );
  }
  const spec = decodeOrThrow(SweepSpec, json, origin);
  if (spec.seeds.length === 0)
    throw new DistributedError(
      "spec",
      `${origin}: "seeds" is empty; list at least one seed, e.g. [0, 1, 2]`,
    );
  if (new Set(spec.seeds).size !== spec.seeds.length)
    throw new DistributedError("spec", `${origin}: "seeds" repeats a seed; list each seed once`);
  for (const [k, v] of Object.entries(spec.grid ?? {})) {
    if (v.length === 0)
      throw new DistributedError(
        "spec",
        `${origin}: grid.${k} is empty; give it at least one value or remove it`,
      );
    if (k in spec.base)
      throw new DistributedError(
        "spec",
        `${origin}: ${k} is both in base and in grid; keep it in one of them`,
      );
  }
  return spec;
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
 * a sweep submitted twice, is one job with one result.
 *
 * @example
 * expandSweep({ name: "lr", base: { epochs: 2 }, grid: { lr: [0.05, 0.1] }, seeds: [0, 1] }).length // 4
 */
export const expandSweep = (
  spec: SweepSpec,
  resolve: (config: Record<string, unknown>) => Record<string, unknown> = (c) => c,
): RunJob[] => {
  const jobs: RunJob[] = [];
  const seen = new Set<string>();
  for (const point of gridPoints(spec.grid ?? {})) {
    const config = resolve({ ...spec.base, ...point });
    const configKey = fingerprint(config);
    if (seen.has(configKey))
      throw new DistributedError(
        "spec",
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
};

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

/** Reads a sweep's record; a missing sweep is a `missing` {@link DistributedError}. */
export const readSweep = async (
  redis: Redis,
  queue: string,
  name: string,
): Promise<SweepRecord> => {
  const text = await redis.hget(keys(queue).sweeps, name);
  if (text === null) {
    const known = await redis.hkeys(keys(queue).sweeps);
    throw new DistributedError(
      "missing",
      `no sweep named ${JSON.stringify(name)} in queue ${queue}${known.length > 0 ? ` (known: ${known.join(", ")})` : " (none submitted yet)"}; submit it first`,
    );
  }
  return parseAndDecode(SweepRecord, text, `sweep ${name}'s record`);
};

/** The names of the sweeps recorded in `queue`. */
export const listSweeps = async (redis: Redis, queue: string): Promise<string[]> =>
  (await redis.hkeys(keys(queue).sweeps)).sort();

/**
 * Records the sweep and enqueues its jobs (see {@link enqueue}). A sweep of the same name with a
 * different spec is refused (`kind: "conflict"`); the same spec again adds only what is missing.
 */
export const submitSweep = async (
  url: string,
  queue: string,
  redis: Redis,
  spec: SweepSpec,
  jobs: readonly RunJob[],
): Promise<{ record: SweepRecord; summary: EnqueueSummary }> => {
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
  const kept = created === 1 ? record : await readSweep(redis, queue, spec.name);
  if (kept.specFingerprint !== specFingerprint)
    throw new DistributedError(
      "conflict",
      `sweep ${spec.name} was submitted before with other jobs; give this sweep another name (results of equal runs are shared anyway)`,
    );
  const summary = await enqueue(url, queue, redis, jobs);
  return { record: kept, summary };
};
