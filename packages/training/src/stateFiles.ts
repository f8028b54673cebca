import { raise } from "@wider/errors";
import { disposeWeights, type Json, type Weights } from "@wider/weights";
import { loadBundle, saveBundle } from "@wider/weights/node";
import * as E from "fp-ts/lib/Either.js";
import type * as t from "io-ts";
import { sharedKind, type TrainingError, trainingError } from "./errors.js";
import type { EpochInfo, Hook } from "./loop.js";
import { problems } from "./problems.js";
import {
  branch,
  CheckpointHeader,
  disposeTrainingState,
  SLOT_PREFIX,
  type TrainingState,
  WEIGHTS_GROUP,
} from "./state.js";

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
  return E.isLeft(r)
    ? E.left(
        trainingError(sharedKind(r.left.kind, "io"), `saveTrainingState: ${r.left.message}`, {
          path: dir,
        }),
      )
    : r;
};

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
  if (E.isLeft(b))
    return E.left(
      trainingError(sharedKind(b.left.kind, "corrupt"), `loadTrainingState: ${b.left.message}`, {
        path: dir,
      }),
    );
  const { groups, metadata } = b.right;
  const free = () => {
    for (const g of Object.values(groups)) disposeWeights(g);
  };
  const bad = (msg: string, fix: string) => {
    free();
    return E.left(
      trainingError("corrupt", `loadTrainingState: ${dir}: ${msg}; ${fix}`, { path: dir, fix }),
    );
  };
  const header = CheckpointHeader.decode(metadata);
  if (E.isLeft(header)) {
    return bad(
      `not a wider-training checkpoint (${problems(header.left, "metadata")})`,
      "pass a directory written by saveTrainingState",
    );
  }
  const meta = metaCodec.decode(header.right.meta);
  if (E.isLeft(meta)) {
    return bad(
      `its metadata does not fit the codec (${problems(meta.left, "meta")})`,
      "pass the codec of the metadata it was saved with",
    );
  }
  const weights = groups[WEIGHTS_GROUP];
  if (weights === undefined)
    return bad(`the bundle has no "${WEIGHTS_GROUP}" group`, "save it again");
  const slots: Record<string, Weights> = {};
  for (const name of header.right.slots) {
    const w = groups[`${SLOT_PREFIX}${name}`];
    if (w === undefined) return bad(`the optimizer slot "${name}" is missing`, "save it again");
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
      if (E.isLeft(r)) raise(r.left);
    } finally {
      disposeTrainingState(s);
    }
    options.onSaved?.(info);
  },
});
