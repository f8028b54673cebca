/**
 * The run's checkpoint: `@wider/training`'s run checkpoint (named training states, extra weight
 * groups, metadata) written atomically after every epoch. The metadata and the config stored in
 * it are decoded with io-ts codecs; anything that does not decode is one line, "checkpoint is
 * corrupt: ...", never a cast or a stack trace.
 *
 * @module
 */

import type * as tfl from "@tensorflow/tfjs-layers";
import type { TrainingState } from "@wider/training";
import {
  disposeRunCheckpoint,
  loadRunCheckpoint,
  RunCheckpointHeader,
  saveRunCheckpoint,
} from "@wider/training";
import {
  type Json,
  type Manifest,
  readManifest,
  type Weights,
  type WeightsError,
} from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { AppError } from "./AppError.js";
import { Config } from "./config.js";
import { withAddedFields } from "./configFields.js";

/** The training tracks, in the order they run. */
export const tracks = ["sgd", "swa", "fge"] as const;
/** A training track. */
export type Track = (typeof tracks)[number];

const TrackC = t.keyof({ sgd: null, swa: null, fge: null });

/** One epoch of one track, as recorded in the report. */
export const EpochRecord = t.intersection([
  t.type({
    /** The track (`sgd`, `swa`, `fge`). */
    phase: TrackC,
    /** Global epoch index (0-based). */
    epoch: t.number,
    /** Mean training loss over the epoch's batches (training mode, before each step). */
    trainLoss: t.number,
    /** Test error of the iterate at the epoch's end, on the curve subset. */
    testError: t.number,
    /** Rate of the epoch's first and last step. */
    lrFirst: t.number,
    lrLast: t.number,
    seconds: t.number,
  }),
  /** Test error of the running SWA average (models without BatchNorm). */
  t.partial({ swaTestError: t.number }),
]);
/** One epoch of one track. */
export type EpochRecord = t.TypeOf<typeof EpochRecord>;

/** The JSON half of a checkpoint. */
export const TrainStateC = t.type({
  version: t.literal(2),
  /** The config the run was started with (decoded again with {@link Config} on load). */
  config: t.unknown,
  /** The track to run next, `done` when all are finished. */
  track: t.union([TrackC, t.literal("done")]),
  history: t.array(EpochRecord),
  /** Global steps after which the SWA average was updated / SWAG collected / FGE snapshots taken. */
  swaSteps: t.array(t.number),
  swagSteps: t.array(t.number),
  fgeSteps: t.array(t.number),
  /** Models in the SWA average when the budget ended (the reported SWA). */
  swaAtBudget: t.union([t.number, t.null]),
  /** Seconds spent in each track so far. */
  seconds: t.record(t.string, t.number),
});
/** The JSON half of a checkpoint, as decoded. */
export type TrainState = Omit<t.TypeOf<typeof TrainStateC>, "config"> & { readonly config: Config };

/** A checkpoint in memory: the caller owns every tensor. */
export interface Checkpoint {
  /** Replaced (not mutated) as the run goes on. */
  state: TrainState;
  readonly states: Record<string, TrainingState>;
  readonly groups: Record<string, Weights>;
}

/** Writes the checkpoint atomically; the tensors stay the caller's. */
export const saveCheckpoint = async (dir: string, c: Checkpoint): Promise<void> => {
  // The state is built from JSON values only (numbers, strings, the decoded config).
  const meta = JSON.parse(JSON.stringify(c.state)) as Json;
  const r = await saveRunCheckpoint(dir, { states: c.states, groups: c.groups, meta });
  if (E.isLeft(r)) throw new AppError(`checkpoint ${dir}: ${r.left.message}`, 1);
};

/** The one-line error for a checkpoint that cannot be trusted (exit 1). */
export const corrupt = (where: string, what: string): AppError =>
  new AppError(
    `checkpoint is corrupt: ${where}: ${what}; start the run again with --force (this deletes its files) or restore the directory from a copy`,
    1,
  );

/**
 * `metadata.history.3.trainLoss: expected number, got "x"` for the first few distinct places io-ts
 * refused (`prefix` names where the decoded value sits); the member indices io-ts adds inside
 * unions and intersections are left out.
 */
const describeErrors = (errors: t.Errors, prefix = "metadata"): string => {
  const seen = new Map<string, string>();
  for (const err of errors) {
    const own = err.context.filter((_, i) => {
      const parent = err.context[i - 1]?.type;
      return !(parent instanceof t.UnionType || parent instanceof t.IntersectionType);
    });
    const where = [prefix, ...own.map((c) => c.key).filter((k) => k !== "")].join(".");
    if (seen.has(where)) continue;
    const v = JSON.stringify(err.value) ?? String(err.value);
    seen.set(
      where,
      `${where}: expected ${own.at(-1)?.type.name ?? "?"}, got ${v.length > 40 ? `${v.slice(0, 37)}...` : v}`,
    );
    if (seen.size === 3) break;
  }
  return [...seen.values()].join("; ");
};

const readFailure = (dir: string, e: WeightsError): AppError =>
  e.kind === "io" && !/ENOENT/.test(e.message)
    ? new AppError(`cannot read the checkpoint in ${dir}: ${e.message}`, 1)
    : corrupt(e.path ?? `${dir}/manifest.json`, e.message);

/**
 * Decodes a checkpoint manifest's metadata into the run state (the header of
 * `saveRunCheckpoint`, the state, its config); a Left is one "checkpoint is corrupt" line.
 */
export const decodeRunState = (metadata: unknown, file: string): E.Either<AppError, TrainState> => {
  const header = RunCheckpointHeader.decode(metadata);
  if (E.isLeft(header))
    return E.left(corrupt(file, `no run checkpoint header (${describeErrors(header.left)})`));
  const state = TrainStateC.decode(header.right.meta);
  if (E.isLeft(state)) return E.left(corrupt(file, describeErrors(state.left)));
  const config = Config.decode(withAddedFields(state.right.config));
  if (E.isLeft(config))
    return E.left(corrupt(file, describeErrors(config.left, "metadata.config")));
  return E.right({ ...state.right, config: config.right });
};

/** Reads a checkpoint's manifest and decodes its run state (no tensors are loaded). */
const readState = async (dir: string): Promise<{ manifest: Manifest; state: TrainState }> => {
  const m = await readManifest(dir);
  if (E.isLeft(m)) throw readFailure(dir, m.left);
  const state = decodeRunState(m.right.metadata, `${dir}/manifest.json`);
  if (E.isLeft(state)) throw state.left;
  return { manifest: m.right, state: state.right };
};

/** The config stored in a checkpoint, read from its manifest alone (no tensors are loaded). */
export const readCheckpointConfig = async (dir: string): Promise<Config> =>
  (await readState(dir)).state.config;

/**
 * Checks a checkpoint against the model before anything is written: its state decodes, and every
 * tensor group holds exactly the model's weights (all of them, or the trainable ones for optimizer
 * slots and SWAG moments), names and shapes.
 */
export const checkCheckpoint = async (
  dir: string,
  model: tfl.LayersModel,
): Promise<{ readonly blobBytes: number; readonly done: boolean }> => {
  const { manifest, state } = await readState(dir);
  const file = `${dir}/manifest.json`;
  const shapes = (vars: readonly tfl.LayerVariable[]) =>
    new Map(vars.map((v) => [v.originalName, JSON.stringify(v.shape)]));
  const all = shapes(model.weights);
  const trainable = shapes(model.trainableWeights);
  const byGroup = new Map<string, Map<string, string>>();
  for (const e of manifest.tensors) {
    const g = byGroup.get(e.group) ?? new Map<string, string>();
    g.set(e.name, JSON.stringify(e.shape));
    byGroup.set(e.group, g);
  }
  for (const group of manifest.groups) {
    const want = /\/opt\/|^extra\/swag/.test(group) ? trainable : all;
    const got = byGroup.get(group) ?? new Map<string, string>();
    for (const [name, shape] of want) {
      const have = got.get(name);
      if (have === undefined)
        throw corrupt(file, `group ${group} lacks the model's weight ${name}`);
      if (have !== shape)
        throw corrupt(
          file,
          `group ${group} holds ${name} with shape ${have}, the model's is ${shape}`,
        );
    }
    for (const name of got.keys())
      if (!want.has(name))
        throw corrupt(file, `group ${group} holds ${name}, which the model does not have`);
  }
  return { blobBytes: manifest.blobBytes, done: state.track === "done" };
};

/** Loads a checkpoint; a file that does not decode is an {@link AppError}: "checkpoint is corrupt". */
export const loadCheckpoint = async (dir: string): Promise<Checkpoint> => {
  const r = await loadRunCheckpoint(dir, TrainStateC);
  if (E.isLeft(r)) throw corrupt(`${dir}/manifest.json`, r.left.message);
  const config = Config.decode(withAddedFields(r.right.meta.config));
  if (E.isLeft(config)) {
    disposeRunCheckpoint(r.right);
    throw corrupt(`${dir}/manifest.json`, describeErrors(config.left, "metadata.config"));
  }
  return {
    state: { ...r.right.meta, config: config.right },
    states: { ...r.right.states },
    groups: { ...r.right.groups },
  };
};
