/**
 * The configuration fields a resumed run may change (the analysis fields, and those whose change
 * makes stored results stale), the training differences that forbid a resume, and the filling in
 * of fields added since a checkpoint was written.
 *
 * @module
 */
import { type Config, configFields, defaultConfig } from "./config.js";

/**
 * The fields `--resume` may change: they only shape the analysis after training (geometry sizes,
 * width threshold, output directory), so the trained weights stay those of an uninterrupted run.
 */
export const analysisFields = [
  "out",
  "rays",
  "rayPoints",
  "rayDistance",
  "widthThreshold",
  "segmentPoints",
  "planeGrid",
  "geometrySubset",
  "geometrySeed",
  "swagSamples",
  "swagScale",
  "trajectoryGrid",
] as const satisfies ReadonlyArray<keyof Config>;

/** The analysis fields whose change makes stored geometry results stale (all but out and widthThreshold). */
export const geometryFields = [
  "rays",
  "rayPoints",
  "rayDistance",
  "segmentPoints",
  "planeGrid",
  "geometrySubset",
  "geometrySeed",
] as const satisfies ReadonlyArray<keyof Config>;

/** The analysis fields whose change makes stored trajectory plane results stale. */
export const trajectoryFields = [
  "trajectoryGrid",
  "geometrySubset",
] as const satisfies ReadonlyArray<keyof Config>;

/** JSON text with object keys sorted, so that key order does not count as a difference. */
const canonicalJson = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );

/**
 * The training fields (every field not in {@link analysisFields}) on which two configs differ, with
 * both values as JSON text, in field order.
 *
 * @example
 * trainingDifferences(a, { ...a, lr: 0.2 }) // [{ field: "lr", was: "0.05", now: "0.2" }]
 */
export const trainingDifferences = (
  was: Config,
  now: Config,
): Array<{ readonly field: keyof Config; readonly was: string; readonly now: string }> => {
  const analysis = new Set<string>(analysisFields);
  const out: Array<{ field: keyof Config; was: string; now: string }> = [];
  for (const field of configFields) {
    if (analysis.has(field)) continue;
    const a = canonicalJson(was[field]);
    const b = canonicalJson(now[field]);
    if (a !== b) out.push({ field, was: a, now: b });
  }
  return out;
};

/** Fields added since checkpoints were first written, with the value older runs had in effect. */
const addedFields = (): Partial<Config> => {
  const d = defaultConfig(new Date(0));
  return { trajectoryGrid: d.trajectoryGrid, workers: d.workers };
};

/**
 * A stored config (a checkpoint's) with the fields added since it was written filled in with their
 * defaults (`trajectoryGrid` 7, `workers` 1: what runs before them did), so that they still resume.
 *
 * @example
 * Config.decode(withAddedFields(oldCheckpointConfig)) // Right, trajectoryGrid 7, workers 1
 */
export const withAddedFields = (stored: unknown): unknown =>
  typeof stored === "object" && stored !== null && !Array.isArray(stored)
    ? {
        ...Object.fromEntries(
          Object.entries(addedFields()).filter(([field]) => !(field in stored)),
        ),
        ...stored,
      }
    : stored;
