/**
 * The whole training state at a step, as plain data: the model's weights (with BatchNorm moving
 * statistics), the optimizer state and the global step. `branch` deep-copies it out of a live
 * run, `restore` puts it into a model (any model built with the same layer names), and
 * `saveTrainingState` / `loadTrainingState` store it atomically through `@wider/weights`
 * `saveBundle` / `loadBundle`, with user metadata decoded by an io-ts codec.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  assignToModel,
  disposeWeights,
  fromModel,
  type Json,
  loadBundle,
  saveBundle,
  type Weights,
} from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { type TrainingError, trainingError } from "./errors.js";
import type { EpochInfo, Hook, LoopState } from "./loop.js";
import { cloneOptState, disposeOptState, type Optimizer, type OptState } from "./optimizers.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Everything needed to continue a run exactly: weights (all, keyed by `originalName`), optimizer state, next step. */
export interface TrainingState {
  readonly step: number;
  readonly weights: Weights;
  readonly opt: OptState;
}

const NonNegativeInt = t.refinement(
  t.number,
  (n) => Number.isSafeInteger(n) && n >= 0,
  "NonNegativeInt",
);

/** io-ts codec of the checkpoint header stored in the bundle's metadata. */
export const CheckpointHeader = t.type({
  format: t.literal("wider-training"),
  version: t.literal(1),
  step: NonNegativeInt,
  count: NonNegativeInt,
  slots: t.array(t.string),
  meta: t.unknown,
});

/** The group holding the weights; slots are stored as `opt/<slot>`. */
const WEIGHTS_GROUP = "weights";
const SLOT_PREFIX = "opt/";

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The start of a run: step 0 and `optimizer.init` over the model's trainable weights.
 *
 * @example
 * let state = initLoop(model, sgd({ momentum: 0.9 }));
 */
export const initLoop = (model: tfl.LayersModel, optimizer: Optimizer): LoopState => {
  const w = fromModel(model);
  try {
    return { step: 0, opt: optimizer.init(w) };
  } finally {
    disposeWeights(w);
  }
};

/**
 * A deep copy of the whole state of a live run (the model's weights, `include: "all"`, and a
 * copy of `state.opt`); the caller owns it, `state` stays the caller's too. Branch once, then
 * `restore` it as often as needed so SGD, SWA and FGE continue from one pretrained point.
 *
 * @example
 * const pretrained = branch(model, state);
 */
export const branch = (model: tfl.LayersModel, state: LoopState): TrainingState => ({
  step: state.step,
  weights: fromModel(model, { include: "all" }),
  opt: cloneOptState(state.opt),
});

/** A deep copy of a {@link TrainingState} (new tensors the caller owns). */
export const cloneTrainingState = (s: TrainingState): TrainingState => ({
  step: s.step,
  weights: Object.fromEntries(Object.entries(s.weights).map(([k, v]) => [k, v.clone()])),
  opt: cloneOptState(s.opt),
});

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * Writes `s.weights` into `model` and returns a live state with a copy of `s.opt` (the caller
 * keeps owning `s`). A model whose variable names or shapes differ is a Left and nothing is written.
 *
 * @example
 * const r = restore(model, pretrained); // Either<TrainingError, LoopState>
 */
export const restore = (
  model: tfl.LayersModel,
  s: TrainingState,
): E.Either<TrainingError, LoopState> => {
  const names = new Set(model.trainableWeights.map((v) => v.originalName));
  for (const [slot, w] of Object.entries(s.opt.slots)) {
    const stray = Object.keys(w).find((k) => !names.has(k));
    if (stray !== undefined) {
      return E.left(
        trainingError(
          "shape",
          `restore: the optimizer state's "${slot}" has "${stray}", which is not a trainable weight of the model; restore into a model built with the same layer names`,
        ),
      );
    }
  }
  const r = assignToModel(model, s.weights);
  if (E.isLeft(r)) return E.left(trainingError("shape", `restore: ${r.left.message}`));
  return E.right({ step: s.step, opt: cloneOptState(s.opt) });
};

/** Frees every tensor of a {@link TrainingState}. */
export const disposeTrainingState = (s: TrainingState): void => {
  disposeWeights(s.weights);
  disposeOptState(s.opt);
};

// -------------------------------------------------------------------------------------
// persistence
// -------------------------------------------------------------------------------------

/**
 * Saves `s` and JSON `meta` to `dir` atomically (a reader sees the previous save or this one,
 * never a mix, even if the process is killed while writing). The tensors stay the caller's.
 *
 * @example
 * await saveTrainingState("runs/ckpt", branch(model, state), { epoch: 3 });
 */
export const saveTrainingState = async (
  dir: string,
  s: TrainingState,
  meta: Json = null,
): Promise<E.Either<TrainingError, void>> => {
  const header: t.TypeOf<typeof CheckpointHeader> = {
    format: "wider-training",
    version: 1,
    step: s.step,
    count: s.opt.count,
    slots: Object.keys(s.opt.slots),
    meta,
  };
  const groups: Record<string, Weights> = { [WEIGHTS_GROUP]: s.weights };
  for (const [name, w] of Object.entries(s.opt.slots)) groups[`${SLOT_PREFIX}${name}`] = w;
  // The header is built from JSON values only, so it is a Json value; io-ts types `meta` as unknown.
  const metadata: Json = { ...header, meta };
  const r = await saveBundle(dir, { groups, metadata });
  return E.isLeft(r) ? E.left(trainingError("io", `saveTrainingState: ${r.left.message}`)) : r;
};

const describe = (errors: t.Errors): string =>
  errors
    .slice(0, 3)
    .map((e) => {
      const path = e.context
        .map((c) => c.key)
        .filter((k) => k !== "")
        .join(".");
      return `${path === "" ? "(root)" : path}: got ${JSON.stringify(e.value)}`;
    })
    .join("; ");

/**
 * Loads a state saved by {@link saveTrainingState}, its `meta` decoded by `metaCodec`; the caller
 * owns the tensors. An unreadable directory, a bundle that is not a training checkpoint, or
 * metadata the codec refuses is a Left naming the file and the problem.
 *
 * @example
 * const r = await loadTrainingState("runs/ckpt", t.type({ epoch: t.number }));
 */
export const loadTrainingState = async <M>(
  dir: string,
  metaCodec: t.Decoder<unknown, M>,
): Promise<E.Either<TrainingError, { readonly state: TrainingState; readonly meta: M }>> => {
  const b = await loadBundle(dir);
  if (E.isLeft(b)) return E.left(trainingError("io", `loadTrainingState: ${b.left.message}`));
  const { groups, metadata } = b.right;
  const free = () => {
    for (const g of Object.values(groups)) disposeWeights(g);
  };
  const bad = (msg: string) => {
    free();
    return E.left(trainingError("checkpoint", `loadTrainingState: ${dir}: ${msg}`));
  };
  const header = CheckpointHeader.decode(metadata);
  if (E.isLeft(header)) {
    return bad(
      `not a wider-training checkpoint (${describe(header.left)}); pass a directory written by saveTrainingState`,
    );
  }
  const meta = metaCodec.decode(header.right.meta);
  if (E.isLeft(meta)) {
    return bad(
      `its metadata does not fit the codec (${describe(meta.left)}); pass the codec of the metadata it was saved with`,
    );
  }
  const weights = groups[WEIGHTS_GROUP];
  if (weights === undefined)
    return bad(`the bundle has no "${WEIGHTS_GROUP}" group; save it again`);
  const slots: Record<string, Weights> = {};
  for (const name of header.right.slots) {
    const w = groups[`${SLOT_PREFIX}${name}`];
    if (w === undefined) return bad(`the optimizer slot "${name}" is missing; save it again`);
    slots[name] = w;
  }
  const used = new Set([WEIGHTS_GROUP, ...header.right.slots.map((n) => `${SLOT_PREFIX}${n}`)]);
  for (const [g, w] of Object.entries(groups)) if (!used.has(g)) disposeWeights(w);
  return E.right({
    state: { step: header.right.step, weights, opt: { count: header.right.count, slots } },
    meta: meta.right,
  });
};

/** Options of {@link checkpointEveryEpoch}. */
export interface CheckpointOptions {
  /** The save directory (overwritten atomically at each epoch's end). */
  readonly dir: string;
  /** Metadata to store with the state (default: `{ epoch }`). */
  readonly meta?: (info: EpochInfo) => Json;
  /** Called after each save (e.g. to log it). */
  readonly onSaved?: (info: EpochInfo) => void;
}

/**
 * A hook saving the whole training state at every epoch's end (`runSteps` with
 * `stepsPerEpoch`); a failed save throws (the loop stops and frees its state).
 *
 * @example
 * hooks: [checkpointEveryEpoch({ dir: "runs/ckpt" })]
 */
export const checkpointEveryEpoch = (options: CheckpointOptions): Hook => ({
  onEpoch: async (info) => {
    const s = branch(info.model, info.state);
    try {
      const meta = options.meta === undefined ? { epoch: info.epoch } : options.meta(info);
      const r = await saveTrainingState(options.dir, s, meta);
      if (E.isLeft(r)) throw new Error(r.left.message);
    } finally {
      disposeTrainingState(s);
    }
    options.onSaved?.(info);
  },
});

/** The tensors of a {@link TrainingState}, in a fixed order (weights, then slots), e.g. to compare two states. */
export const stateTensors = (s: TrainingState): Array<[string, tf.Tensor]> => [
  ...Object.entries(s.weights).map(([k, v]) => [`weights/${k}`, v] as [string, tf.Tensor]),
  ...Object.entries(s.opt.slots).flatMap(([n, w]) =>
    Object.entries(w).map(([k, v]) => [`${SLOT_PREFIX}${n}/${k}`, v] as [string, tf.Tensor]),
  ),
];
