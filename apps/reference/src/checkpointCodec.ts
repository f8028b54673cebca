/**
 * The checkpoint as the app reads it back: io-ts codecs for the run state stored as the bundle's
 * metadata (the config included, decoded with the config codec), checks that the state agrees
 * with itself and with the tensors the manifest lists, and one message for every failure:
 * `checkpoint is corrupt: <file>: <what>; <fix>` (exit 1), never a cast or a stack.
 *
 * @module
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  loadBundle,
  type Manifest,
  readManifest,
  type Weights,
  type WeightsError,
} from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { AppError } from "./AppError.js";
import { Config, NonNegativeInt } from "./config.js";
import type { TrainState } from "./training.js";

/** A training phase. */
export const PhaseC = t.keyof({ pretrain: null, sgd: null, swa: null, fge: null });

/** A finite number (JSON has no NaN or Infinity; a hand-edited file may still hold a string). */
const Finite = t.refinement(t.number, Number.isFinite, "FiniteNumber");

/** One epoch of one phase, as recorded in the checkpoint and the report. */
export const EpochRecordC = t.intersection([
  t.type({
    phase: PhaseC,
    epoch: NonNegativeInt,
    trainLoss: Finite,
    testError: Finite,
    lrFirst: Finite,
    lrLast: Finite,
    seconds: Finite,
  }),
  t.partial({ swaTestError: Finite }),
]);

/** The run state stored as the checkpoint bundle's metadata. */
export const TrainStateC = t.type({
  version: t.literal(1),
  config: Config,
  phase: t.union([PhaseC, t.literal("done")]),
  epoch: NonNegativeInt,
  history: t.array(EpochRecordC),
  swaCount: NonNegativeInt,
  fgeSteps: t.array(NonNegativeInt),
  swaSteps: t.array(NonNegativeInt),
  seconds: t.record(t.string, Finite),
});

// The codec decodes to the state `training.ts` writes (a compile-time check).
const _decodesToTrainState = (s: t.TypeOf<typeof TrainStateC>): TrainState => s;
void _decodesToTrainState;

const manifestFile = (dir: string): string => `${dir}/manifest.json`;

/** The one-line error for a checkpoint that cannot be trusted. */
export const corrupt = (file: string, what: string): AppError =>
  new AppError(
    `checkpoint is corrupt: ${file}: ${what}; start the run again with --force (this deletes its files) or restore the directory from a copy`,
    1,
  );

const showValue = (v: unknown): string => {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

/**
 * `metadata.history.3.trainLoss: expected FiniteNumber, got "x"` for the first few distinct
 * places; the member indices io-ts adds inside unions and intersections are left out.
 */
const describeErrors = (errors: t.Errors): string => {
  const seen = new Map<string, string>();
  for (const err of errors) {
    const own = err.context.filter((_, i) => {
      const parent = err.context[i - 1]?.type;
      return !(parent instanceof t.UnionType || parent instanceof t.IntersectionType);
    });
    const keys = own.map((c) => c.key).filter((k) => k !== "");
    const where = ["metadata", ...keys].join(".");
    if (seen.has(where)) continue;
    const expected = own[own.length - 1]?.type.name ?? "?";
    seen.set(where, `${where}: expected ${expected}, got ${showValue(err.value)}`);
    if (seen.size === 3) break;
  }
  return [...seen.values()].join("; ");
};

/** Phase order, for range checks. */
const order = ["pretrain", "sgd", "swa", "fge", "done"] as const;

/**
 * Decodes and checks the run state of a checkpoint's metadata: the shape (every field, the config
 * with the config codec), then that the state agrees with itself (epoch within its phase, one
 * history record per finished epoch).
 */
export const decodeTrainState = (
  metadata: unknown,
  dir: string,
): E.Either<AppError, TrainState> => {
  const file = manifestFile(dir);
  if (metadata === undefined || metadata === null)
    return E.left(corrupt(file, "it holds no Wider run state (no metadata)"));
  const decoded = TrainStateC.decode(metadata);
  if (E.isLeft(decoded)) return E.left(corrupt(file, describeErrors(decoded.left)));
  const s = decoded.right;
  const c = s.config;
  const [lo, hi] = s.phase === "pretrain" ? [0, c.swaStart] : [c.swaStart, c.epochs];
  if (s.phase !== "done" && !(s.epoch >= lo && s.epoch < hi))
    return E.left(
      corrupt(file, `epoch ${s.epoch} is outside the ${s.phase} phase's epochs [${lo}, ${hi})`),
    );
  const post = c.epochs - c.swaStart;
  const finished = (phase: (typeof order)[number]): number =>
    order.indexOf(s.phase) > order.indexOf(phase)
      ? phase === "pretrain"
        ? c.swaStart
        : post
      : s.phase === phase
        ? s.epoch - (phase === "pretrain" ? 0 : c.swaStart)
        : 0;
  const expected = finished("pretrain") + finished("sgd") + finished("swa") + finished("fge");
  if (s.history.length !== expected)
    return E.left(
      corrupt(
        file,
        `the history has ${s.history.length} epoch records but the state (${s.phase}, epoch ${s.epoch}) implies ${expected}`,
      ),
    );
  return E.right(s);
};

/** The weight groups a state needs in its bundle. */
export const requiredGroups = (s: TrainState): string[] => {
  const at = order.indexOf(s.phase);
  const started = s.history.length > 0;
  return [
    ...(started ? ["model", "velocity"] : []),
    ...(at > 0 ? ["pretrained", "pretrainedVelocity"] : []),
    ...(at > 1 ? ["sgdFinal"] : []),
    ...(at > 2 ? ["swaFinal"] : []),
    ...(s.swaCount > 0 ? ["swaMean"] : []),
    ...s.fgeSteps.map((_, k) => `fge${k}`),
  ];
};

/**
 * Checks the manifest's tensors against the state and the model: every group the state needs is
 * there, and each holds exactly the model's weights (names, shapes), the velocity groups its
 * trainable ones.
 */
export const checkGroups = (
  manifest: Manifest,
  state: TrainState,
  model: tfl.LayersModel,
  dir: string,
): E.Either<AppError, void> => {
  const file = manifestFile(dir);
  const have = new Set(manifest.groups);
  const missing = requiredGroups(state).filter((g) => !have.has(g));
  if (missing.length > 0)
    return E.left(
      corrupt(
        file,
        `the state (${state.phase}, epoch ${state.epoch}) needs the weight groups ${missing.join(", ")}, which it lacks`,
      ),
    );
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
    const want = /velocity$/i.test(group) ? trainable : all;
    const got = byGroup.get(group) ?? new Map<string, string>();
    for (const [name, shape] of want) {
      const s = got.get(name);
      if (s === undefined)
        return E.left(corrupt(file, `group ${group} lacks the model's weight ${name}`));
      if (s !== shape)
        return E.left(
          corrupt(file, `group ${group} holds ${name} with shape ${s}, the model's is ${shape}`),
        );
    }
    for (const name of got.keys())
      if (!want.has(name))
        return E.left(corrupt(file, `group ${group} holds ${name}, which the model does not have`));
  }
  return E.right(undefined);
};

const readFailure = (dir: string, e: WeightsError): AppError =>
  e.kind === "io" && !/ENOENT/.test(e.message)
    ? new AppError(`cannot read the checkpoint in ${dir}: ${e.message}`, 1)
    : corrupt(e.file ?? manifestFile(dir), e.message);

/** Reads a checkpoint's manifest and decodes its state (no tensors are loaded). */
export const readCheckpointState = async (
  dir: string,
): Promise<E.Either<AppError, { readonly manifest: Manifest; readonly state: TrainState }>> => {
  const m = await readManifest(dir);
  if (E.isLeft(m)) return E.left(readFailure(dir, m.left));
  const state = decodeTrainState(m.right.metadata, dir);
  return E.isLeft(state) ? state : E.right({ manifest: m.right, state: state.right });
};

/** Loads a checkpoint written by a run, decoded and checked; the caller owns the groups' tensors. */
export const loadCheckpoint = async (
  dir: string,
): Promise<{ state: TrainState; groups: Record<string, Weights> }> => {
  const r = await loadBundle(dir);
  if (E.isLeft(r)) throw readFailure(dir, r.left);
  const state = decodeTrainState(r.right.metadata, dir);
  if (E.isLeft(state)) {
    for (const g of Object.values(r.right.groups)) for (const x of Object.values(g)) x.dispose();
    throw state.left;
  }
  return { state: state.right, groups: { ...r.right.groups } };
};
