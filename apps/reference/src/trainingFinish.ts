/**
 * The end of training: a finished track's results into the checkpoint's groups (SGD's final point;
 * SWA's BatchNorm re-estimated averages), and the trained solutions taken out of the checkpoint.
 *
 * @module
 */
import { updateBatchNorm } from "@wider/averaging";
import { clone, fromModel, type Weights, withWeights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { AppError } from "./AppError.js";
import { bnBatches } from "./batches.js";
import type { Checkpoint, Track } from "./checkpoint.js";
import type { ScheduleSet } from "./schedules.js";
import { swagFromGroups } from "./swagGroups.js";
import type { TrainContext, Trained } from "./training.js";
import { freeCheckpoint, setGroup } from "./trainingState.js";

/** A track's results into the groups: SGD's final point; SWA's BN-re-estimated averages. */
export const finishTrack = async (
  ctx: TrainContext,
  ck: Checkpoint,
  track: Track,
): Promise<void> => {
  const { config, data, model } = ctx;
  if (track === "sgd") setGroup(ck.groups, "sgdFinal", fromModel(model, { include: "all" }));
  if (track === "fge" && ck.state.fgeSteps.length === 0)
    throw new AppError(
      "fge: no snapshot was taken; the FGE track must contain at least half a cycle (lower --fge-cycle)",
    );
  if (track !== "swa") return;
  const reestimate = async (mean: Weights | undefined, name: string) => {
    if (mean === undefined)
      throw new AppError(
        "swa: no model was averaged; the SWA track must contain at least one averaging step (lower --swa-every)",
      );
    const r = await withWeights(model, mean, async () => {
      await updateBatchNorm(model, bnBatches(data, config, config.epochs), {
        disposeBatches: true,
      });
      return fromModel(model, { include: "all" });
    });
    if (E.isLeft(r)) throw new Error(`internal: ${r.left.message}`);
    setGroup(ck.groups, name, r.right);
  };
  await reestimate(ck.groups.swaBudgetMean ?? ck.groups.swaMean, "swaFinal");
  if (config.swaExtend > 0) await reestimate(ck.groups.swaMean, "swaExtendedFinal");
};

/** Takes the trained solutions out of a finished run's checkpoint and frees the rest of it. */
export const takeTrained = (
  ck: Checkpoint,
  config: TrainContext["config"],
  schedules: ScheduleSet,
): Trained => {
  const take = (name: string): Weights => {
    const w = ck.groups[name];
    if (w === undefined) throw new Error(`internal: the checkpoint lacks ${name}`);
    delete ck.groups[name];
    return w;
  };
  const pretrained = ck.states.pretrained;
  if (pretrained === undefined) throw new Error("internal: no pretrained point");
  delete ck.states.pretrained; // the result owns it now
  const out: Trained = {
    state: ck.state,
    pretrainedState: pretrained,
    pretrained: clone(pretrained.weights),
    sgd: take("sgdFinal"),
    swa: take("swaFinal"),
    swaExtended: config.swaExtend > 0 ? take("swaExtendedFinal") : null,
    swag:
      config.swagRank > 0
        ? swagFromGroups(ck.groups, ck.state.swagSteps.length, config.swagRank, true)
        : null,
    fge: ck.state.fgeSteps.map((_, k) => take(`fge${k}`)),
    schedules,
  };
  freeCheckpoint(ck);
  return out;
};
