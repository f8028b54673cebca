/**
 * Snapshot collection for Fast Geometric Ensembling, as pure state in, state
 * out: a collector built by {@link collectAt} from a step policy (such as
 * `isCycleMidpoint(cycle)` for FGE's triangular schedule or `isCycleEnd(cycle)`
 * for the SWA paper's sawtooth, both from `@wider/schedules`) keeps at most
 * `maxCount` snapshots, in memory (cloned `Weights`) or on disk (one
 * `@wider/weights` save directory per snapshot).
 *
 * Ownership: the caller keeps the weights passed to `update`; the state owns
 * its snapshots (in-memory tensors, or the directories it wrote). An update
 * that evicts a snapshot disposes its tensors (or deletes its directory), so
 * a state must not be used after it has been passed to `update`; use the
 * returned one.
 *
 * @module snapshots
 */

import { add, clone, disposeWeights, scale, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { type EnsemblingError, ensemblingError, fail } from "./errors.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A step predicate: collect a snapshot after the update of step `step` (0-based) when it returns true. */
export type SnapshotPolicy = (step: number) => boolean;

/** Where snapshots live: `"memory"` (cloned tensors) or `{ dir }` (one save directory per snapshot under `dir`). */
export type SnapshotStore = "memory" | { readonly dir: string };

/** One collected snapshot: its training step and its weights, in memory or in a save directory. */
export type Snapshot =
  | { readonly kind: "memory"; readonly step: number; readonly weights: Weights }
  | { readonly kind: "disk"; readonly step: number; readonly dir: string };

/** What to do with a new snapshot when `maxCount` are held: drop the oldest (default), or keep the first ones. */
export type WhenFull = "dropOldest" | "keepFirst";

/** The collector's state: the snapshots held, oldest first, and counts of what was collected and evicted. */
export interface SnapshotState {
  readonly snapshots: readonly Snapshot[];
  /** Snapshots taken so far (including evicted ones; excluding those refused by `keepFirst`). */
  readonly collected: number;
  /** Snapshots dropped to stay within `maxCount`. */
  readonly evicted: number;
}

/** Options of {@link collectAt}. */
export interface CollectOptions {
  /** The most snapshots held at once (a positive integer). */
  readonly maxCount: number;
  /** `"memory"` or `{ dir }`. */
  readonly store: SnapshotStore;
  /** `"dropOldest"` (default: keep the last maxCount, evicting the oldest) or `"keepFirst"` (ignore new ones when full). */
  readonly whenFull?: WhenFull;
}

/** A snapshot collector: `init()` then `state = update(state, step, weights)` after each training step. */
export interface SnapshotCollector {
  readonly policy: SnapshotPolicy;
  readonly maxCount: number;
  readonly store: SnapshotStore;
  readonly whenFull: WhenFull;
  /** The empty state. */
  readonly init: () => SnapshotState;
  /**
   * Collects `weights` (the caller keeps them) if `policy(step)`; returns the same state object
   * when nothing was collected. Disk errors are a Left and leave `state` valid.
   */
  readonly update: (
    state: SnapshotState,
    step: number,
    weights: Weights,
  ) => Promise<E.Either<EnsemblingError, SnapshotState>>;
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * Loads a Node-only module on the first use of a disk store. The specifier is not a literal, so
 * browser bundlers leave these modules out and the in-memory collector bundles for browsers; there
 * a disk store fails here with an error saying to use `store: "memory"`.
 */
const nodeOnly = async <M>(specifier: string): Promise<M> => {
  try {
    return (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as M;
  } catch (e) {
    return fail(
      "unsupported",
      `on-disk snapshot stores need Node: loading ${specifier} failed (${e instanceof Error ? e.message : String(e)}); in a browser use store: "memory"`,
      { path: "store", fix: 'in a browser use store: "memory"' },
    );
  }
};
const fsP = () => nodeOnly<typeof import("node:fs/promises")>("node:fs/promises");
const pathM = () => nodeOnly<typeof import("node:path")>("node:path");
const weightsNode = () => nodeOnly<typeof import("@wider/weights/node")>("@wider/weights/node");

const describeErr = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The save directory of the snapshot of `step` under `root`: `root/step-000001234`. */
export const snapshotDirName = (step: number): string => `step-${String(step).padStart(9, "0")}`;

const releaseSnapshot = async (s: Snapshot): Promise<void> => {
  if (s.kind === "memory") disposeWeights(s.weights);
  else await (await fsP()).rm(s.dir, { recursive: true, force: true });
};

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Builds a snapshot collector from a step policy; a bad `maxCount`, `store` or `whenFull` throws
 * an `EnsemblingError` of kind `config` (an option written in code).
 *
 * @example
 * const fge = collectAt(isCycleMidpoint(4), { maxCount: 20, store: { dir: "runs/fge" } });
 * // in the training loop, after step `step`:
 * state = E.getOrElseW(fail)(await collector.update(state, step, fromModel(model, { include: "all" })));
 */
export const collectAt = (policy: SnapshotPolicy, options: CollectOptions): SnapshotCollector => {
  const { maxCount, store } = options;
  const whenFull = options.whenFull ?? "dropOldest";
  if (!Number.isInteger(maxCount) || maxCount < 1) {
    fail("config", `maxCount was ${maxCount}; pass a positive integer`, {
      path: "maxCount",
      value: maxCount,
      fix: "a positive integer",
    });
  }
  if (
    store !== "memory" &&
    (typeof store !== "object" || typeof store.dir !== "string" || store.dir === "")
  ) {
    fail(
      "config",
      `store was ${JSON.stringify(store)}; pass "memory" or { dir: "<directory for snapshots>" }`,
      { path: "store", value: store, fix: '"memory" or { dir: "<directory for snapshots>" }' },
    );
  }
  if (whenFull !== "dropOldest" && whenFull !== "keepFirst") {
    fail("config", `whenFull was ${JSON.stringify(whenFull)}; pass "dropOldest" or "keepFirst"`, {
      path: "whenFull",
      value: whenFull,
      fix: '"dropOldest" or "keepFirst"',
    });
  }
  const init = (): SnapshotState => ({ snapshots: [], collected: 0, evicted: 0 });
  const take = async (
    step: number,
    weights: Weights,
  ): Promise<E.Either<EnsemblingError, Snapshot>> => {
    if (store === "memory") return E.right({ kind: "memory", step, weights: clone(weights) });
    const dir = (await pathM()).join(store.dir, snapshotDirName(step));
    const saved = await (await weightsNode()).saveWeights(dir, weights, { step });
    if (E.isLeft(saved)) {
      return E.left(
        ensemblingError(
          "io",
          `could not save the snapshot of step ${step}: ${saved.left.message}`,
          {
            path: dir,
          },
        ),
      );
    }
    return E.right({ kind: "disk", step, dir });
  };
  const update = async (
    state: SnapshotState,
    step: number,
    weights: Weights,
  ): Promise<E.Either<EnsemblingError, SnapshotState>> => {
    if (!policy(step)) return E.right(state);
    const full = state.snapshots.length >= maxCount;
    if (full && whenFull === "keepFirst") return E.right(state);
    // Re-collecting the same step on disk overwrites its directory: replace, don't duplicate.
    const kept = state.snapshots.filter((s) => !(s.kind === "disk" && s.step === step));
    const taken = await take(step, weights);
    if (E.isLeft(taken)) return taken;
    const all = [...kept, taken.right];
    const drop = Math.max(0, all.length - maxCount);
    try {
      for (const s of all.slice(0, drop)) await releaseSnapshot(s);
    } catch (e) {
      return E.left(
        ensemblingError("io", `could not delete an evicted snapshot: ${describeErr(e)}`),
      );
    }
    return E.right({
      snapshots: all.slice(drop),
      collected: state.collected + 1,
      evicted: state.evicted + drop,
    });
  };
  return { policy, maxCount, store, whenFull, init, update };
};

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * Loads one snapshot's weights as new tensors the caller owns (a clone for in-memory ones).
 *
 * @example
 * const w = await loadSnapshot(state.snapshots[0]); // Either<EnsemblingError, Weights>
 */
export const loadSnapshot = async (
  snapshot: Snapshot,
): Promise<E.Either<EnsemblingError, Weights>> => {
  if (snapshot.kind === "memory") return E.right(clone(snapshot.weights));
  const loaded = await (await weightsNode()).loadWeights(snapshot.dir);
  if (E.isLeft(loaded)) {
    return E.left(
      ensemblingError(
        loaded.left.kind,
        `could not load the snapshot of step ${snapshot.step} from ${snapshot.dir}: ${loaded.left.message}`,
        { path: snapshot.dir },
      ),
    );
  }
  return E.right(loaded.right.weights);
};

/**
 * Runs `f` on a snapshot's weights without copying in-memory ones; weights loaded from disk are
 * disposed after `f` settles. `f` must not keep or dispose the weights.
 */
export const withSnapshot = async <A>(
  snapshot: Snapshot,
  f: (weights: Weights) => Promise<E.Either<EnsemblingError, A>> | E.Either<EnsemblingError, A>,
): Promise<E.Either<EnsemblingError, A>> => {
  if (snapshot.kind === "memory") return f(snapshot.weights);
  const loaded = await loadSnapshot(snapshot);
  if (E.isLeft(loaded)) return loaded;
  try {
    return await f(loaded.right);
  } finally {
    disposeWeights(loaded.right);
  }
};

/**
 * The mean of the snapshots' weights, `w_swa = mean_i w_i`, streamed (one snapshot loaded at a
 * time); new tensors the caller owns. No snapshots is a Left.
 */
export const meanOfSnapshots = async (
  snapshots: readonly Snapshot[],
): Promise<E.Either<EnsemblingError, Weights>> => {
  if (snapshots.length === 0) {
    return E.left(
      ensemblingError("config", "there are 0 snapshots; collect at least one before averaging"),
    );
  }
  let sum: Weights | null = null;
  try {
    for (const s of snapshots) {
      const r: E.Either<EnsemblingError, Weights> = await withSnapshot(s, (w) => {
        if (sum === null) return E.right(clone(w));
        const keys = Object.keys(sum);
        const other = Object.keys(w);
        if (keys.length !== other.length || keys.some((k) => !(k in w))) {
          return E.left(
            ensemblingError(
              "shape",
              `the snapshot of step ${s.step} has weights [${other.join(", ")}] but earlier ones had [${keys.join(", ")}]; collect snapshots of one model`,
            ),
          );
        }
        for (const k of keys) {
          const a = sum[k];
          const b = w[k];
          if (a !== undefined && b !== undefined && a.shape.join() !== b.shape.join()) {
            return E.left(
              ensemblingError(
                "shape",
                `weight "${k}" of the snapshot of step ${s.step} has shape [${b.shape.join(", ")}] but earlier ones had [${a.shape.join(", ")}]; collect snapshots of one model`,
              ),
            );
          }
        }
        return E.right(add(sum, w));
      });
      if (E.isLeft(r)) return r;
      if (sum !== null) disposeWeights(sum);
      sum = r.right;
    }
    const total: Weights = sum ?? {};
    return E.right(scale(total, 1 / snapshots.length));
  } finally {
    if (sum !== null) disposeWeights(sum);
  }
};

/**
 * Releases a state's snapshots: disposes in-memory tensors; with `{ deleteFiles: true }` also
 * deletes the snapshot directories (by default the files are kept, e.g. for a later run).
 */
export const disposeSnapshots = async (
  state: SnapshotState,
  options: { readonly deleteFiles?: boolean } = {},
): Promise<void> => {
  for (const s of state.snapshots) {
    if (s.kind === "memory") disposeWeights(s.weights);
    else if (options.deleteFiles === true) await releaseSnapshot(s);
  }
};

/**
 * Finds the snapshots a disk collector wrote under `dir` (directories `step-NNNNNNNNN`), oldest
 * first, to ensemble them in a later process. A missing `dir` is a Left.
 */
export const snapshotsOnDisk = async (
  dir: string,
): Promise<E.Either<EnsemblingError, SnapshotState>> => {
  const fs = await fsP();
  const path = await pathM();
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    return E.left(
      ensemblingError("io", `could not list snapshot directory ${dir}: ${describeErr(e)}`),
    );
  }
  const snapshots: Snapshot[] = names
    .map((name) => ({ name, m: /^step-(\d+)$/.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .map(({ name, m }) => ({
      kind: "disk" as const,
      step: Number(m[1]),
      dir: path.join(dir, name),
    }))
    .sort((a, b) => a.step - b.step);
  return E.right({ snapshots, collected: snapshots.length, evicted: 0 });
};
