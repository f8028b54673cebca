/**
 * The page's settings: defaults small enough to train in a browser in about a minute, read from
 * the form or the URL (`?trainSubset=2000&epochs=4`), and checked with messages that name the
 * field, the value and the fix. Pure: no DOM.
 *
 * @module
 */

/** Data sets the page can offer (Fashion-MNIST only where the build found its files). */
export type DatasetName = "mnist" | "fashion-mnist";
/** Models: the MLP (784-512-256-10) and the small CNN of `@wider/models`, with or without BatchNorm. */
export type ModelName = "mlp" | "cnn" | "cnn-bn";
/** Backend preference: `auto` tries webgpu, then webgl, then wasm, then cpu. */
export type BackendName = "auto" | "webgpu" | "webgl" | "wasm" | "cpu";

/** Everything a run needs; every field can come from the URL. */
export interface Settings {
  readonly dataset: DatasetName;
  readonly model: ModelName;
  /** Training images used (a seeded subset). */
  readonly trainSubset: number;
  /** Test images used for every curve point and the final table. */
  readonly testSubset: number;
  readonly batchSize: number;
  /** The budget in epochs (of `trainSubset` images). */
  readonly epochs: number;
  /** Epoch at which SWA and FGE branch off the SGD run. */
  readonly swaStart: number;
  readonly lr: number;
  readonly swaLr: number;
  /** Epochs between two SWA averages (the cyclical rate's cycle). */
  readonly swaEvery: number;
  /** FGE cycle in epochs (a snapshot at each cycle's middle). */
  readonly fgeCycle: number;
  readonly fgeLrMax: number;
  readonly fgeLrMin: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly seed: number;
  readonly dataSeed: number;
  /** Train and test images for the segment and the plane. */
  readonly geometrySubset: number;
  /** Points on the SWA-SGD segment. */
  readonly segmentPoints: number;
  /** Plane grid side (`planeGrid^2` points). */
  readonly planeGrid: number;
  readonly backend: BackendName;
  /**
   * wasm threads (cross-origin isolated pages only): `auto` is tfjs-backend-wasm's default (half
   * the cores), `all` every core, `off` one thread.
   */
  readonly threads: "auto" | "all" | "off";
}

/** The defaults: MNIST, the MLP, 5,000 images, 6 epochs (SWA and FGE from epoch 3). */
export const defaultSettings: Settings = {
  dataset: "mnist",
  model: "mlp",
  trainSubset: 5000,
  testSubset: 2000,
  batchSize: 64,
  epochs: 6,
  swaStart: 3,
  lr: 0.05,
  swaLr: 0.01,
  swaEvery: 1,
  fgeCycle: 1,
  fgeLrMax: 0.05,
  fgeLrMin: 0.0005,
  momentum: 0.9,
  weightDecay: 5e-4,
  seed: 0,
  dataSeed: 1,
  geometrySubset: 500,
  segmentPoints: 9,
  planeGrid: 5,
  backend: "auto",
  threads: "auto",
};

type Kind = "int" | "posint" | "number" | "posnumber" | "momentum";
const numeric: Readonly<Record<string, Kind>> = {
  trainSubset: "posint",
  testSubset: "posint",
  batchSize: "posint",
  epochs: "posint",
  swaStart: "int",
  lr: "posnumber",
  swaLr: "posnumber",
  swaEvery: "posint",
  fgeCycle: "posint",
  fgeLrMax: "posnumber",
  fgeLrMin: "posnumber",
  momentum: "momentum",
  weightDecay: "number",
  seed: "int",
  dataSeed: "int",
  geometrySubset: "posint",
  segmentPoints: "posint",
  planeGrid: "posint",
};
const choices: Readonly<Record<string, readonly string[]>> = {
  dataset: ["mnist", "fashion-mnist"],
  model: ["mlp", "cnn", "cnn-bn"],
  backend: ["auto", "webgpu", "webgl", "wasm", "cpu"],
  threads: ["auto", "all", "off"],
};

/** The names of every setting, in form order. */
export const settingNames = Object.keys(defaultSettings) as ReadonlyArray<keyof Settings>;

const checkNumber = (name: string, raw: string, kind: Kind): number | string => {
  const v = Number(raw);
  const ok =
    raw.trim() !== "" &&
    Number.isFinite(v) &&
    (kind === "int" ? Number.isInteger(v) && v >= 0 : true) &&
    (kind === "posint" ? Number.isInteger(v) && v > 0 : true) &&
    (kind === "number" ? v >= 0 : true) &&
    (kind === "posnumber" ? v > 0 : true) &&
    (kind === "momentum" ? v >= 0 && v < 1 : true);
  if (ok) return v;
  const want = {
    int: "a whole number >= 0",
    posint: "a whole number >= 1",
    number: "a number >= 0",
    posnumber: "a number > 0",
    momentum: "a number in [0, 1)",
  }[kind];
  return `${name}: got ${JSON.stringify(raw)}; expected ${want}`;
};

/**
 * Reads settings from string pairs (URL parameters or form fields) over `base`; unknown names
 * and bad values are listed as problems (the run does not start with any).
 *
 * @example
 * parseSettings(new URLSearchParams("epochs=4&trainSubset=2000"))
 * // { settings: { ...defaultSettings, epochs: 4, trainSubset: 2000 }, problems: [] }
 */
export const parseSettings = (
  pairs: Iterable<[string, string]>,
  base: Settings = defaultSettings,
): { readonly settings: Settings; readonly problems: readonly string[] } => {
  const out: Record<string, unknown> = { ...base };
  const problems: string[] = [];
  for (const [name, raw] of pairs) {
    if (name in numeric) {
      const v = checkNumber(name, raw, numeric[name]!);
      if (typeof v === "string") problems.push(v);
      else out[name] = v;
    } else if (name in choices) {
      if (choices[name]!.includes(raw)) out[name] = raw;
      else
        problems.push(
          `${name}: got ${JSON.stringify(raw)}; expected one of ${choices[name]!.join(", ")}`,
        );
    } else if (name !== "autostart") {
      problems.push(`${name}: not a setting; known settings are ${settingNames.join(", ")}`);
    }
  }
  const s = out as unknown as Settings; // every key of Settings was set from base or checked above
  problems.push(...crossChecks(s));
  return { settings: s, problems };
};

/** Checks between fields: SWA starts inside the budget, a batch fits the subset. */
export const crossChecks = (s: Settings): string[] => {
  const p: string[] = [];
  if (s.swaStart < 1 || s.swaStart >= s.epochs)
    p.push(
      `swaStart: ${s.swaStart} must be between 1 and epochs - 1 (${s.epochs - 1}): SWA and FGE need SGD epochs before them and epochs after`,
    );
  if (s.batchSize > s.trainSubset)
    p.push(
      `batchSize: ${s.batchSize} is larger than trainSubset ${s.trainSubset}; lower it or raise trainSubset`,
    );
  if (s.trainSubset > 60000)
    p.push(`trainSubset: ${s.trainSubset} is more than the 60000 training images`);
  if (s.testSubset > 10000)
    p.push(`testSubset: ${s.testSubset} is more than the 10000 test images`);
  if (s.geometrySubset > Math.min(s.trainSubset, s.testSubset))
    p.push(
      `geometrySubset: ${s.geometrySubset} is more than trainSubset or testSubset; lower it to ${Math.min(s.trainSubset, s.testSubset)} or less`,
    );
  if (s.planeGrid < 2) p.push(`planeGrid: ${s.planeGrid} must be at least 2`);
  if (s.segmentPoints < 2) p.push(`segmentPoints: ${s.segmentPoints} must be at least 2`);
  return p;
};

/** The URL query of settings that differ from the defaults (for a shareable link). */
export const settingsQuery = (s: Settings): string => {
  const q = new URLSearchParams();
  for (const k of settingNames) if (s[k] !== defaultSettings[k]) q.set(k, String(s[k]));
  return q.toString();
};
