/**
 * The run's checkpoint: `@wider/training`'s run checkpoint (named training states, extra weight
 * groups, metadata) written atomically after every epoch. The metadata and the config stored in
 * it are decoded with io-ts codecs; anything that does not decode is one line, "checkpoint is
 * corrupt: ...", never a cast or a stack trace.
 *
 * @module
 */

import type { TrainingState } from "@wider/training";
import {
  disposeRunCheckpoint,
  loadRunCheckpoint,
  RunCheckpointHeader,
  saveRunCheckpoint,
} from "@wider/training";
import { type Json, readManifest, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { AppError } from "./AppError.js";
import { Config } from "./config.js";

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

/** The config stored in a checkpoint, read from its manifest alone (no tensors are loaded). */
export const readCheckpointConfig = async (dir: string): Promise<Config> => {
  const m = await readManifest(dir);
  if (E.isLeft(m))
    throw new AppError(`--resume: cannot read the checkpoint in ${dir}: ${m.left.message}`, 1);
  const header = RunCheckpointHeader.decode(m.right.metadata);
  const state = E.isRight(header) ? TrainStateC.decode(header.right.meta) : header;
  const config = E.isRight(state) ? Config.decode(state.right.config) : state;
  if (E.isLeft(config))
    throw new AppError(
      `checkpoint is corrupt: ${dir} holds no run state this version can read; start the run again with --force`,
      1,
    );
  return config.right;
};

/** Loads a checkpoint; a file that does not decode is an {@link AppError}: "checkpoint is corrupt". */
export const loadCheckpoint = async (dir: string): Promise<Checkpoint> => {
  const r = await loadRunCheckpoint(dir, TrainStateC);
  if (E.isLeft(r))
    throw new AppError(
      `checkpoint is corrupt: ${r.left.message}; start the run again with --force`,
      1,
    );
  const config = Config.decode(r.right.meta.config);
  if (E.isLeft(config)) {
    disposeRunCheckpoint(r.right);
    throw new AppError(
      `checkpoint is corrupt: ${dir} holds a configuration this version cannot read; start the run again with --force`,
      1,
    );
  }
  return {
    state: { ...r.right.meta, config: config.right },
    states: { ...r.right.states },
    groups: { ...r.right.groups },
  };
};
