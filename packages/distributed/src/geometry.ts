/**
 * Distributed geometry: a plan's anchor tensors are saved once (the `@wider/weights` format) in
 * the shared directory, each point is a job, and the collected results are the `PlanResults` a
 * local `evaluatePlan` returns (same point order, same metrics: each point is assigned,
 * BatchNorm-re-estimated and evaluated by the same steps, from the same bytes).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { updateBatchNorm } from "@wider/averaging";
import {
  describePlan,
  type Plan,
  type PlanResults,
  PlanResultsC,
  type PointResult,
  planFingerprint,
  planTensors,
  pointWeights,
  storeMetrics,
} from "@wider/geometry";
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
import type { Redis } from "ioredis";
import { attempt, type DistributedError, fail } from "./errors.js";
import { fingerprint } from "./fingerprint.js";
import { decodeOrFail, Fingerprint, keys, type PointJob, parseOrFail } from "./jobs.js";
import { type EnqueueSummary, enqueueOrFail, readResultsOrFail } from "./store.js";
import type { PointSetup } from "./worker.js";

const PlanDescriptionC = PlanResultsC.props.plan;
const PointResultC = PlanResultsC.props.results.type;

/** A distributed evaluation of a plan, as recorded in Redis. */
export const EvaluationRecord = t.type({
  evaluationId: Fingerprint,
  planId: Fingerprint,
  /** The plan's directory, relative to the shared directory. */
  dir: t.string,
  plan: PlanDescriptionC,
  evaluator: t.UnknownRecord,
  points: t.array(Fingerprint),
});
/** A recorded evaluation. */
export type EvaluationRecord = t.TypeOf<typeof EvaluationRecord>;

/** Options of {@link publishPlan}. */
export interface PublishPlanOptions {
  readonly redis: string;
  readonly queue: string;
  /** The client used for the records (the caller's; not closed here). */
  readonly client: Redis;
  /** The shared directory every worker has as its `--dir`. */
  readonly sharedDir: string;
  readonly plan: Plan;
  /** What workers need to build the model and data (their `handlers.point` reads it). */
  readonly evaluator: Readonly<Record<string, Json>>;
}

/**
 * Saves the plan's anchors under `<sharedDir>/plans/<planId>` (once: an existing save is kept),
 * records the evaluation and enqueues one job per point. Returns the evaluation's id (the key
 * of {@link collectPlan}). A plan that cannot be saved (`io`) or a Redis failure (`io`) is a `Left`.
 */
export const publishPlan = (
  options: PublishPlanOptions,
): Promise<
  E.Either<DistributedError, { evaluationId: string; planId: string; summary: EnqueueSummary }>
> =>
  attempt(async () => {
    const { plan, evaluator, client, queue } = options;
    const planId = planFingerprint(plan);
    const dir = join("plans", planId);
    const abs = join(options.sharedDir, dir);
    if (!existsSync(join(abs, "manifest.json"))) {
      const saved = await saveBundle(abs, {
        groups: planTensors(plan),
        metadata: { planId, plan: describePlan(plan) as unknown as Json },
      });
      if (E.isLeft(saved)) fail("io", `cannot save the plan to ${abs}: ${saved.left.message}`);
    }
    const jobs: PointJob[] = plan.points.map((p) => {
      const inputs = { kind: "point" as const, planId, index: p.index, evaluator };
      return { ...inputs, fingerprint: fingerprint(inputs), plan: dir };
    });
    const evaluationId = fingerprint({ planId, evaluator });
    const record: EvaluationRecord = {
      evaluationId,
      planId,
      dir,
      plan: describePlan(plan) as EvaluationRecord["plan"],
      evaluator,
      points: jobs.map((j) => j.fingerprint),
    };
    await client.hset(keys(queue).plans, evaluationId, JSON.stringify(record));
    const summary = await enqueueOrFail(options.redis, queue, client, jobs);
    return { evaluationId, planId, summary };
  });

/**
 * Rebuilds a plan saved by {@link publishPlan}; a save that cannot be loaded or whose bytes do not
 * match its id is a `corrupt` `Left`.
 */
export const loadPlan = (dir: string, planId: string): Promise<E.Either<DistributedError, Plan>> =>
  attempt(() => loadPlanOrFail(dir, planId));

const loadPlanOrFail = async (dir: string, planId: string): Promise<Plan> => {
  const loaded = await loadBundle(dir);
  if (E.isLeft(loaded)) fail("corrupt", `cannot load the plan in ${dir}: ${loaded.left.message}`);
  const meta = decodeOrFail(
    t.type({ planId: t.string, plan: PlanDescriptionC }),
    loaded.right.metadata,
    `the plan's metadata in ${dir}`,
  );
  const plan = { ...meta.plan, ...loaded.right.groups } as unknown as Plan;
  const actual = planFingerprint(plan);
  if (actual !== planId || meta.planId !== planId) {
    for (const w of Object.values(loaded.right.groups)) disposeWeights(w);
    fail(
      "corrupt",
      `the plan in ${dir} is not plan ${planId.slice(0, 12)}… (its bytes hash to ${actual.slice(0, 12)}…); publish the plan again`,
    );
  }
  return plan;
};

/** Keeps the plan last loaded (workers take a plan's points one after another). */
export interface PlanCache {
  /** The plan (see {@link loadPlan}: a plan that cannot be loaded is a `Left`, not kept). */
  readonly get: (dir: string, planId: string) => Promise<E.Either<DistributedError, Plan>>;
  readonly clear: () => void;
}

/** A one-plan cache for {@link loadPlan}. */
export const planCache = (): PlanCache => {
  let held: { planId: string; plan: Promise<E.Either<DistributedError, Plan>> } | null = null;
  const clear = () => {
    if (held !== null) {
      const p = held.plan;
      held = null;
      p.then(
        (plan) => {
          if (E.isRight(plan))
            for (const w of Object.values(planTensors(plan.right))) disposeWeights(w);
        },
        () => {},
      );
    }
  };
  return {
    get: async (dir, planId) => {
      if (held?.planId !== planId) {
        clear();
        held = { planId, plan: loadPlan(dir, planId) };
      }
      const plan = await held.plan;
      if (E.isLeft(plan) && held?.planId === planId) held = null;
      return plan;
    },
    clear,
  };
};

/** Writes `original` (taken from this very model, so it always fits) back, then frees it. */
const restoreModel = (model: PointSetup["model"], original: Weights): void => {
  const restored = assignToModel(model, original);
  disposeWeights(original);
  if (E.isLeft(restored)) throw new Error(`unreachable: ${restored.left.message}`);
};

/**
 * Evaluates point `index` of `plan` as `evaluatePlan` does (assign the point's weights,
 * re-estimate BatchNorm when `bnBatches` is given, evaluate), then restores the model's weights.
 * A point not in the plan (`corrupt`) or weights that do not fit the model (`shape`) is a `Left`;
 * what `setup.evaluate` throws passes through.
 */
export const evaluatePoint = (
  plan: Plan,
  index: number,
  setup: PointSetup,
): Promise<E.Either<DistributedError, PointResult>> =>
  attempt(async () => {
    const point = plan.points[index];
    if (point === undefined || point.index !== index)
      fail("corrupt", `point ${index} is not in the plan (0..${plan.points.length - 1})`);
    const { model, evaluate, bnBatches, bnOptions, assign } = setup;
    const original = fromModel(model, { include: "all" });
    try {
      const weights = pointWeights(plan, index);
      try {
        const assigned = assignToModel(model, weights, assign);
        if (E.isLeft(assigned))
          fail("shape", `the plan's weights do not fit the model: ${assigned.left.message}`);
        if (bnBatches !== undefined) {
          const batches = typeof bnBatches === "function" ? bnBatches() : bnBatches;
          await updateBatchNorm(model, batches, bnOptions);
        }
        const metrics = await evaluate(model);
        return { ...point, metrics: storeMetrics(metrics) };
      } finally {
        disposeWeights(weights);
      }
    } finally {
      restoreModel(model, original);
    }
  });

/**
 * Reads an evaluation's record; a missing one (`io`), one that does not decode (`corrupt`) or a
 * Redis failure (`io`) is a `Left`.
 */
export const readEvaluation = (
  client: Redis,
  queue: string,
  evaluationId: string,
): Promise<E.Either<DistributedError, EvaluationRecord>> =>
  attempt(() => readEvaluationOrFail(client, queue, evaluationId));

const readEvaluationOrFail = async (
  client: Redis,
  queue: string,
  evaluationId: string,
): Promise<EvaluationRecord> => {
  const text = await client.hget(keys(queue).plans, evaluationId);
  if (text === null)
    fail(
      "io",
      `no plan evaluation ${evaluationId.slice(0, 12)}… in queue ${queue}; publish the plan first`,
    );
  return parseOrFail(EvaluationRecord, text, `plan evaluation ${evaluationId.slice(0, 12)}…`);
};

/**
 * The evaluation's results so far, as `PlanResults` (`complete` once every point is in); equal to
 * a local `evaluatePlan`'s when complete. A missing evaluation (`io`), a record or result that
 * does not decode (`corrupt`) or a Redis failure (`io`) is a `Left`.
 */
export const collectPlan = (
  client: Redis,
  queue: string,
  evaluationId: string,
): Promise<E.Either<DistributedError, PlanResults>> =>
  attempt(async () => {
    const record = await readEvaluationOrFail(client, queue, evaluationId);
    const stored = await readResultsOrFail(client, queue, record.points);
    const results: PointResult[] = [];
    for (const fp of record.points) {
      const r = stored.get(fp);
      if (r !== undefined)
        results.push(decodeOrFail(PointResultC, r.output, `point result ${fp.slice(0, 12)}…`));
    }
    results.sort((a, b) => a.index - b.index);
    return {
      format: "wider-geometry-results",
      version: 1,
      planId: record.planId,
      plan: record.plan,
      results,
      complete: results.length === record.points.length,
    };
  });
