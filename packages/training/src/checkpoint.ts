/**
 * A whole run in one atomic checkpoint: several named training states (a live run and the
 * pretrained point it branched from, say), extra weight groups (an SWA mean, FGE snapshots, SWAG
 * moments) and JSON metadata decoded by the caller's io-ts codec. Written through `@wider/weights`
 * `saveBundle`, so a reader sees the previous checkpoint or this one, never a mix.
 *
 * @module
 */
import { disposeWeights, type Json, type Weights } from "@wider/weights";
import { loadBundle, saveBundle } from "@wider/weights/node";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { sharedKind, type TrainingError, trainingError } from "./errors.js";
import { problems } from "./problems.js";
import type { TrainingState } from "./state.js";

const NonNegativeInt = t.refinement(
  t.number,
  (n) => Number.isSafeInteger(n) && n >= 0,
  "NonNegativeInt",
);

const StateHeader = t.type({
  step: NonNegativeInt,
  count: NonNegativeInt,
  slots: t.array(t.string),
});

/** io-ts codec of the header a run checkpoint keeps in its bundle metadata. */
export const RunCheckpointHeader = t.type({
  format: t.literal("wider-training-run"),
  version: t.literal(1),
  states: t.record(t.string, StateHeader),
  groups: t.array(t.string),
  meta: t.unknown,
});

/** What {@link saveRunCheckpoint} stores and {@link loadRunCheckpoint} returns. */
export interface RunCheckpoint<M> {
  readonly states: Readonly<Record<string, TrainingState>>;
  readonly groups: Readonly<Record<string, Weights>>;
  readonly meta: M;
}

const stateGroup = (name: string, part: string): string => `state/${name}/${part}`;
const extraGroup = (name: string): string => `extra/${name}`;

/** Disposes every tensor of a loaded or assembled run checkpoint. */
export const disposeRunCheckpoint = <M>(c: RunCheckpoint<M>): void => {
  for (const s of Object.values(c.states)) {
    disposeWeights(s.weights);
    for (const w of Object.values(s.opt.slots)) disposeWeights(w);
  }
  for (const g of Object.values(c.groups)) disposeWeights(g);
};

/**
 * Saves named training states, extra weight groups and JSON `meta` to `dir` atomically; the
 * tensors stay the caller's. Names may not contain `/`.
 *
 * @example
 * await saveRunCheckpoint("runs/x/checkpoint", { states: { live, pretrained }, groups: { swaMean }, meta: { phase: "swa" } });
 */
export const saveRunCheckpoint = async (
  dir: string,
  c: RunCheckpoint<Json>,
): Promise<E.Either<TrainingError, void>> => {
  const names = [...Object.keys(c.states), ...Object.keys(c.groups)];
  const bad = names.find((n) => n.includes("/") || n === "" || n === "__proto__");
  if (bad !== undefined)
    return E.left(
      trainingError(
        "config",
        `saveRunCheckpoint: the name "${bad}" is empty, "__proto__" or holds "/"; rename it`,
        { value: bad, fix: "rename it" },
      ),
    );
  const groups: Record<string, Weights> = {};
  const states: Record<string, t.TypeOf<typeof StateHeader>> = {};
  for (const [name, s] of Object.entries(c.states)) {
    groups[stateGroup(name, "weights")] = s.weights;
    for (const [slot, w] of Object.entries(s.opt.slots))
      groups[stateGroup(name, `opt/${slot}`)] = w;
    states[name] = { step: s.step, count: s.opt.count, slots: Object.keys(s.opt.slots) };
  }
  for (const [name, w] of Object.entries(c.groups)) groups[extraGroup(name)] = w;
  const header: t.TypeOf<typeof RunCheckpointHeader> = {
    format: "wider-training-run",
    version: 1,
    states,
    groups: Object.keys(c.groups),
    meta: c.meta,
  };
  // Built from JSON values only; io-ts types `meta` as unknown, so restate it as Json.
  const r = await saveBundle(dir, { groups, metadata: { ...header, meta: c.meta } });
  return E.isLeft(r)
    ? E.left(
        trainingError(sharedKind(r.left.kind, "io"), `saveRunCheckpoint: ${r.left.message}`, {
          path: dir,
        }),
      )
    : r;
};

/**
 * Loads a checkpoint written by {@link saveRunCheckpoint}, its `meta` decoded by `metaCodec`; the
 * caller owns the tensors. Anything that does not fit (not a run checkpoint, a missing group,
 * metadata the codec refuses) is a Left naming the directory and the problem, with nothing leaked.
 *
 * @example
 * const r = await loadRunCheckpoint("runs/x/checkpoint", t.type({ phase: t.string }));
 */
export const loadRunCheckpoint = async <M>(
  dir: string,
  metaCodec: t.Decoder<unknown, M>,
): Promise<E.Either<TrainingError, RunCheckpoint<M>>> => {
  const b = await loadBundle(dir);
  if (E.isLeft(b))
    return E.left(
      trainingError(sharedKind(b.left.kind, "corrupt"), `loadRunCheckpoint: ${b.left.message}`, {
        path: dir,
      }),
    );
  const all = b.right.groups;
  const fail = (msg: string, fix?: string) => {
    for (const g of Object.values(all)) disposeWeights(g);
    return E.left(
      trainingError(
        "corrupt",
        `loadRunCheckpoint: ${dir}: ${msg}${fix === undefined ? "" : `; ${fix}`}`,
        {
          path: dir,
          ...(fix === undefined ? {} : { fix }),
        },
      ),
    );
  };
  const header = RunCheckpointHeader.decode(b.right.metadata);
  if (E.isLeft(header))
    return fail(
      `not a run checkpoint of this version (${problems(header.left, "metadata")})`,
      "pass a directory written by saveRunCheckpoint",
    );
  const meta = metaCodec.decode(header.right.meta);
  if (E.isLeft(meta))
    return fail(
      `its metadata does not fit the codec (${problems(meta.left, "meta")})`,
      "pass the codec it was saved with",
    );
  const expected = new Set<string>();
  const take = (group: string): Weights | undefined => {
    expected.add(group);
    return all[group];
  };
  const states: Record<string, TrainingState> = {};
  for (const [name, h] of Object.entries(header.right.states)) {
    const weights = take(stateGroup(name, "weights"));
    if (weights === undefined)
      return fail(`state "${name}" has no weights; the file is incomplete`);
    const slots: Record<string, Weights> = {};
    for (const slot of h.slots) {
      const w = take(stateGroup(name, `opt/${slot}`));
      if (w === undefined) return fail(`state "${name}" lacks optimizer slot "${slot}"`);
      slots[slot] = w;
    }
    states[name] = { step: h.step, weights, opt: { count: h.count, slots } };
  }
  const groups: Record<string, Weights> = {};
  for (const name of header.right.groups) {
    const w = take(extraGroup(name));
    if (w === undefined) return fail(`group "${name}" is missing; the file is incomplete`);
    groups[name] = w;
  }
  const stray = Object.keys(all).find((g) => !expected.has(g));
  if (stray !== undefined) return fail(`it holds a group "${stray}" its header does not name`);
  return E.right({ states, groups, meta: meta.right });
};
