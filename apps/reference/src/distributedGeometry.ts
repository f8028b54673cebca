/**
 * Distributed geometry for a run (`wider --geometry-redis URL --geometry-dir DIR`): each plan of
 * the geometry phase (rays, segment, plane) is published with `@wider/distributed`'s
 * `publishPlan` (anchors saved once in `DIR/plans/<planId>`, one job per point) and collected
 * with `collectPlan`; `wider worker --dir DIR` processes evaluate the points with the run's own
 * {@link geometryEvaluator}, from the same saved bytes, so the results equal the local ones bit
 * for bit on the same backend.
 *
 * @module
 */
import {
  collectPlan,
  confine,
  connect,
  jobStates,
  type PointSetup,
  publishPlan,
} from "@wider/distributed";
import { orThrow } from "@wider/errors";
import type { Json } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { AppError, Interrupted } from "./AppError.js";
import { chooseBackend } from "./backend.js";
import { orAppError } from "./commands/common.js";
import { Config } from "./config.js";
import { withAddedFields } from "./configFields.js";
import { loadAppDataset } from "./dataset.js";
import { geometryEvaluator, type RemotePlans } from "./geometryEval.js";
import { buildAppModel } from "./models.js";

/** What a point job names: the run's configuration (its `out` is not used). */
export const GeometrySpec = t.type({ kind: t.literal("wider-geometry"), config: t.unknown });

/** The evaluator record of a run's plans (JSON; the run's `out` left out of it). */
export const geometrySpec = (config: Config): Readonly<Record<string, Json>> => ({
  kind: "wider-geometry",
  config: JSON.parse(JSON.stringify({ ...config, out: "(any)" })) as Json,
});

/** Where the plans go and how long to wait between looks. */
export interface RemoteGeometryOptions {
  readonly redis: string;
  readonly queue: string;
  /** The directory shared with the workers (their `--dir`). */
  readonly sharedDir: string;
  readonly config: Config;
  readonly signal: { readonly aborted: boolean };
  readonly pollMs?: number;
}

/** A {@link RemotePlans} over Redis, and `close` for its connection. */
export const remoteGeometry = (
  options: RemoteGeometryOptions,
): { readonly remote: RemotePlans; readonly close: () => void } => {
  // The URL was checked with the flags (`--geometry-redis`).
  const client = orAppError(connect(options.redis));
  client.on("error", () => {}); // reconnects; commands wait for Redis
  const remote: RemotePlans = async (plan, name, onProgress) => {
    const published = await publishPlan({
      redis: options.redis,
      queue: options.queue,
      client,
      sharedDir: options.sharedDir,
      plan,
      evaluator: geometrySpec(options.config),
    });
    const { evaluationId } = orAppError(published);
    let checks = 0;
    for (;;) {
      const r = orAppError(await collectPlan(client, options.queue, evaluationId));
      onProgress(r.results.length);
      if (r.complete) return r;
      if (options.signal.aborted)
        throw new Interrupted(
          `in geometry (${name}); the workers go on and a --resume collects their results`,
        );
      if (++checks % 10 === 0) {
        const fps = JSON.parse(
          (await client.hget(`wider:${options.queue}:plans`, evaluationId)) ?? '{"points":[]}',
        ).points as string[];
        const states = orAppError(await jobStates(options.redis, options.queue, client, fps));
        const failed = [...states.values()].find((s) => s.state === "failed");
        if (failed !== undefined)
          throw new AppError(
            `geometry (${name}): a point job failed in a worker (${failed.error ?? "?"}); fix it and --resume`,
            1,
          );
      }
      await new Promise((res) => setTimeout(res, options.pollMs ?? 200));
    }
  };
  return { remote, close: () => client.disconnect() };
};

/**
 * `wider worker`'s point handler: builds the run's model and data and its geometry evaluator
 * (the run's backend; `dataDir` confined to the worker's directories).
 */
export const pointSetup =
  (roots: readonly string[]) =>
  async (evaluator: Readonly<Record<string, unknown>>): Promise<PointSetup> => {
    const spec = GeometrySpec.decode(evaluator);
    const decoded = E.isLeft(spec) ? spec : Config.decode(withAddedFields(spec.right.config));
    if (E.isLeft(decoded))
      throw new AppError(
        "point job: its evaluator is not a wider geometry evaluator of this version; update the workers",
      );
    const c = decoded.right;
    const config: Config = {
      ...c,
      // A path outside the worker's directories fails the point job for good (`config`).
      dataDir: c.dataDir === null ? null : orThrow(confine(roots, c.dataDir, "dataDir")),
    };
    await chooseBackend(config.backend);
    const data = await loadAppDataset(config);
    const model = buildAppModel(
      config.model,
      { imageShape: data.imageShape, classes: data.classes },
      config.seed,
    );
    const setup = geometryEvaluator(config, model, data, { aborted: false });
    return {
      model,
      evaluate: setup.evaluate,
      ...(setup.bnBatches === undefined
        ? {}
        : { bnBatches: setup.bnBatches, bnOptions: { disposeBatches: true } }),
    };
  };
