/**
 * The reading side of the twin comparison (`compare.ts`): a multi-seed Wider run's
 * `aggregate.json` and `seeds.json`, a twin's `seed-<s>.json` files, both as per-seed values of
 * every method and metric, and the config fields on which the twin differs from the run.
 *
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { AppError } from "./AppError.js";
import { type Summary, summarize } from "./stats.js";

const SummaryCodec = t.type({
  mean: t.union([t.number, t.null]),
  std: t.union([t.number, t.null]),
  values: t.array(t.union([t.number, t.null])),
});

/** The part of `aggregate.json` the comparison reads. */
const WiderAggregate = t.type({
  tool: t.literal("wider-aggregate"),
  seeds: t.array(t.number),
  backend: t.string,
  dataset: t.type({ name: t.string, trainUsed: t.number, testUsed: t.number }),
  model: t.type({ name: t.string }),
  methods: t.array(
    t.type({ key: t.string, accuracy: SummaryCodec, nll: SummaryCodec, ece: SummaryCodec }),
  ),
  seconds: SummaryCodec,
});

const TwinMetrics = t.type({ accuracy: t.number, nll: t.number, ece: t.number });

/** A twin's `seed-<s>.json` (what the comparison reads). */
const TwinSeed = t.type({
  tool: t.literal("wider-twin"),
  seed: t.number,
  config: t.UnknownRecord,
  torch: t.string,
  dataset: t.type({ name: t.string, trainUsed: t.number, testUsed: t.number }),
  model: t.type({ name: t.string }),
  results: t.record(t.string, TwinMetrics),
  seconds: t.type({ total: t.number }),
});
/** A twin's seed file, decoded. */
export type TwinSeed = t.TypeOf<typeof TwinSeed>;

/** The metrics compared. */
export const compareMetrics = ["accuracy", "nll", "ece"] as const;
/** One of {@link compareMetrics}. */
export type Metric = (typeof compareMetrics)[number];

/** One side of the comparison: per-seed values of every method and metric, aligned with `seeds`. */
export interface Side {
  readonly seeds: readonly number[];
  readonly values: Readonly<Record<string, Readonly<Record<Metric, readonly (number | null)[]>>>>;
  /** Wall seconds per seed. */
  readonly seconds: Summary;
  readonly label: string;
  readonly dataset: {
    readonly name: string;
    readonly trainUsed: number;
    readonly testUsed: number;
  };
  readonly model: string;
}

const readJson = async (file: string, what: string): Promise<unknown> => {
  try {
    return JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    throw new AppError(`compare: cannot read ${file} (${(e as Error).message}); ${what}`, 1);
  }
};

const decode = <A>(codec: t.Decoder<unknown, A>, json: unknown, file: string, fix: string): A => {
  const r = codec.decode(json);
  if (E.isLeft(r)) throw new AppError(`compare: ${file} is not ${fix}`, 1);
  return r.right;
};

/** Reads a multi-seed Wider run (`aggregate.json` and `seeds.json` in `dir`). */
export const readWider = async (
  dir: string,
): Promise<{ side: Side; config: Record<string, unknown> }> => {
  const aggFile = join(dir, "aggregate.json");
  const a = decode(
    WiderAggregate,
    await readJson(aggFile, "run the seeds first (wider --seeds ... --out DIR)"),
    aggFile,
    "a wider aggregate.json; rerun the seeds with --resume to rewrite it",
  );
  const cfgFile = join(dir, "seeds.json");
  const config = decode(
    t.UnknownRecord,
    await readJson(cfgFile, "pass the --out directory of a wider --seeds run"),
    cfgFile,
    "a JSON object",
  );
  const values: Record<string, Record<Metric, (number | null)[]>> = {};
  for (const m of a.methods)
    values[m.key] = { accuracy: m.accuracy.values, nll: m.nll.values, ece: m.ece.values };
  return {
    side: {
      seeds: a.seeds,
      values,
      seconds: summarize(a.seconds.values),
      label: `Wider (${a.backend})`,
      dataset: a.dataset,
      model: a.model.name,
    },
    config,
  };
};

/** Reads every `seed-<s>.json` of a twin's `--out` directory, in seed order. */
export const readTwin = async (dir: string): Promise<{ side: Side; seeds: TwinSeed[] }> => {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /^seed-\d+\.json$/.test(n));
  } catch (e) {
    throw new AppError(
      `compare: cannot read the twin directory ${dir} (${(e as Error).message}); pass the twin's --out`,
      1,
    );
  }
  if (names.length === 0)
    throw new AppError(`compare: ${dir} holds no seed-<s>.json; run the twin first`, 1);
  const seeds: TwinSeed[] = [];
  for (const n of names) {
    const file = join(dir, n);
    seeds.push(
      decode(
        TwinSeed,
        await readJson(file, "rerun that seed of the twin"),
        file,
        "a twin seed file (experiments/twin/twin.py); delete it and rerun that seed",
      ),
    );
  }
  seeds.sort((x, y) => x.seed - y.seed);
  const first = seeds[0] as TwinSeed;
  const keys = Object.keys(first.results).filter((k) => seeds.every((s) => k in s.results));
  const values: Record<string, Record<Metric, (number | null)[]>> = {};
  for (const k of keys)
    values[k] = {
      accuracy: seeds.map((s) => s.results[k]?.accuracy ?? null),
      nll: seeds.map((s) => s.results[k]?.nll ?? null),
      ece: seeds.map((s) => s.results[k]?.ece ?? null),
    };
  return {
    side: {
      seeds: seeds.map((s) => s.seed),
      values,
      seconds: summarize(seeds.map((s) => s.seconds.total)),
      label: `twin (PyTorch ${first.torch})`,
      dataset: first.dataset,
      model: first.model.name,
    },
    seeds,
  };
};

/**
 * The fields of the twin's config that differ from the Wider run's base config, once each (the twin's
 * `dataSeed` is the base's plus its seed; `seed` is per seed and not compared).
 */
export const configDrift = (
  wider: Record<string, unknown>,
  twins: readonly { readonly seed: number; readonly config: Record<string, unknown> }[],
): string[] => {
  const out = new Map<string, string>(); // the first seed that differs, per field
  for (const tw of twins)
    for (const [k, v] of Object.entries(tw.config)) {
      if (k === "seed" || out.has(k)) continue;
      const expected = k === "dataSeed" ? (wider.dataSeed as number) + tw.seed : wider[k];
      if (JSON.stringify(v) !== JSON.stringify(expected))
        out.set(
          k,
          `${k} (Wider ${JSON.stringify(expected)}, twin seed ${tw.seed} ${JSON.stringify(v)})`,
        );
    }
  return [...out.values()];
};
