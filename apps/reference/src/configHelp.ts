/**
 * One line of `--help` per configuration field (the flag is the field in kebab-case). The type
 * makes a new field without a description a compile error; the CLI test checks `--help` lists them.
 *
 * @module
 */
import * as t from "io-ts";
import { Config, configFields, defaultConfig } from "./config.js";
import { flagOf } from "./configDecode.js";
import type { Flag } from "./flags.js";

/** What each configuration field does, in one line (defaults and allowed values are added). */
export const fieldHelp: { readonly [K in keyof Config]: string } = {
  dataset: "data set to train on",
  dataDir:
    "directory holding the data set's files (default: the data set's own place; MNIST is embedded)",
  trainSubset: "train on the first N shuffled training images (0: all of them)",
  testSubset: "evaluate on the first N test images (0: all of them)",
  model: "model architecture",
  batchSize: "mini-batch size",
  epochs: "training budget in epochs (SGD, SWA and FGE each end at this epoch)",
  swaStart: "epoch at which pretraining stops and SWA and FGE start (below --epochs)",
  lr: "initial learning rate of the SGD schedule",
  momentum: "SGD momentum, in [0, 1)",
  weightDecay: "L2 weight decay, coupled as in PyTorch's SGD",
  pretrainSchedule:
    "SGD schedule over the whole budget, a @wider/schedules spec as JSON (default: the SWA paper's SGD schedule)",
  swaSchedule:
    "SWA phase's schedule, a @wider/schedules spec as JSON (default: cyclical down to --swa-lr, or the authors' protocol's)",
  protocol:
    "shared: SWA and FGE continue the SGD run; authors: SWA is its own run on the SWA repository's schedule",
  swaExtend: "epochs the SWA run continues past the budget (both means are reported)",
  augment:
    "training augmentation: none; crop-flip pads, crops and flips; default does so for 32x32 only",
  swagRank: "SWAG: deviations kept, the low rank K (0: no SWAG; else at least 2)",
  swagSamples: "SWAG: samples of the Bayesian model average",
  swagScale: "SWAG: covariance scale of the samples",
  swaLr: "SWA learning rate (the low end of the default cyclical schedule)",
  swaEvery: "average every N epochs, at the end of each cycle of that length",
  fgeCycle: "FGE cycle length in epochs; a snapshot at each cycle's midpoint",
  fgeLrMax: "FGE triangular schedule: rate at cycle start and end",
  fgeLrMin: "FGE triangular schedule: rate at mid-cycle (at most --fge-lr-max)",
  seed: "seed of the model's initializers",
  dataSeed: "seed of the data order (shuffling, subset)",
  geometrySeed: "seed of the geometry phase's random directions",
  backend: "TensorFlow.js backend (auto: the fastest installed)",
  out: "output directory of the run (report.html, report.json, checkpoints)",
  rays: "random rays from each of the SGD and SWA solutions (0: none)",
  rayPoints: "points per ray (rounded up to odd), evenly spaced in [-distance, distance]",
  rayDistance: "the farthest distance along a ray",
  widthThreshold: "train-loss rise that defines a ray's width",
  segmentPoints: "points on the segment through the SGD and SWA solutions (0: none)",
  planeGrid: "grid size of the plane through the pretrained, SGD and SWA solutions (0: no plane)",
  geometrySubset: "train and test images each geometry point is evaluated on",
  trajectoryGrid: "grid size of the trajectory analysis' plane (0: no trajectory analysis)",
  workers:
    "worker threads training one model data-parallel (1: this thread only; at most the cores per --jobs)",
};

/** The placeholder of a field's value in `--help`. */
const valueName = (codec: t.Mixed, field: string): string => {
  if (codec instanceof t.KeyofType) return "name";
  if (field === "out" || field === "dataDir") return "dir";
  if (codec instanceof t.UnionType) return "json";
  return /Int$/.test(codec.name) ? "n" : "x";
};

/** The config fields as flags: `--batch-size <n>` with its description, choices and default. */
export const fieldFlags = (): Flag[] => {
  const d = defaultConfig(new Date(0));
  return configFields.map((field) => {
    const codec = Config.props[field] as t.Mixed;
    // The allowed names, unless the description already names each of them.
    const keys = codec instanceof t.KeyofType ? Object.keys(codec.keys as object) : [];
    const choices = keys.every((k) => fieldHelp[field].includes(k)) ? "" : `: ${keys.join(", ")}`;
    const v = d[field];
    const dflt =
      field === "out"
        ? " (default runs/wider-<time>)"
        : v === null
          ? ""
          : ` (default ${String(v)})`;
    return {
      name: flagOf(field).slice(2),
      value: valueName(codec, field),
      description: `${fieldHelp[field]}${choices}${dflt}`,
    };
  });
};
