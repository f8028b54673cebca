/**
 * Results of evaluating a plan: plain JSON-serialisable data, their io-ts codec, and the atomic
 * result file used to resume an interrupted evaluation.
 *
 * @module
 */
import { decode } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { fail, type GeometryError, geometryError } from "./errors.js";
import type { LinePoint, PlanDescription, PlanePoint } from "./plans.js";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/** What a user's evaluator returns for one point: named numbers, e.g. `{ trainLoss, testError }`. */
export type Metrics = Readonly<Record<string, number>>;

/** Metrics as stored: a non-finite value (NaN, ±Infinity, a diverged loss) is stored as `null`. */
export type StoredMetrics = Readonly<Record<string, number | null>>;

/** One evaluated point: its coordinates and its metrics. */
export type PointResult = (LinePoint | PlanePoint) & { readonly metrics: StoredMetrics };

/** A plan's results so far, as written to and read from a result file. */
export interface PlanResults {
  readonly format: "wider-geometry-results";
  readonly version: 1;
  /** `planFingerprint` of the plan evaluated. */
  readonly planId: string;
  readonly plan: PlanDescription;
  /** Evaluated points, sorted by index. */
  readonly results: readonly PointResult[];
  /** Whether every point of the plan has a result. */
  readonly complete: boolean;
}

// -------------------------------------------------------------------------------------------------
// codec
// -------------------------------------------------------------------------------------------------

const NullableNumber = t.union([t.number, t.null]);
const LinePointC = t.type({ index: t.number, t: t.number, distance: t.number });
const PlanePointC = t.type({
  index: t.number,
  row: t.number,
  col: t.number,
  x: t.number,
  y: t.number,
});
const Pair = t.tuple([t.number, t.number]);

/** io-ts codec of {@link PlanResults} (validates the structure of a result file). */
export const PlanResultsC = t.type({
  format: t.literal("wider-geometry-results"),
  version: t.literal(1),
  planId: t.string,
  plan: t.union([
    t.type({ kind: t.literal("ray"), directionNorm: t.number, points: t.array(LinePointC) }),
    t.type({ kind: t.literal("segment"), length: t.number, points: t.array(LinePointC) }),
    t.type({
      kind: t.literal("plane"),
      anchors: t.tuple([Pair, Pair, Pair]),
      xs: t.array(t.number),
      ys: t.array(t.number),
      points: t.array(PlanePointC),
    }),
  ]),
  results: t.array(
    t.intersection([
      t.union([LinePointC, PlanePointC]),
      t.type({ metrics: t.record(t.string, NullableNumber) }),
    ]),
  ),
  complete: t.boolean,
});

// -------------------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------------------

/** `metrics` with every non-finite value replaced by `null` (JSON has no NaN or Infinity). */
export const storeMetrics = (metrics: Metrics): StoredMetrics =>
  Object.fromEntries(
    Object.entries(metrics).map(([k, v]) => [
      k,
      typeof v === "number" && Number.isFinite(v) ? v : null,
    ]),
  );

/**
 * Loads a Node-only module when a result file is used. The specifier is not a literal, so browser
 * bundlers leave `node:fs` out; in a browser, evaluating with a `file` fails with an error saying so.
 */
const nodeOnly = async <M>(specifier: string): Promise<M> => {
  try {
    return (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as M;
  } catch (e) {
    return fail(
      "unsupported",
      `result files need Node: loading ${specifier} failed (${e instanceof Error ? e.message : String(e)}); in a browser evaluate without a file`,
      { path: "resume.file", fix: "in a browser evaluate without a file" },
    );
  }
};
const fsP = () => nodeOnly<typeof import("node:fs/promises")>("node:fs/promises");
const pathM = () => nodeOnly<typeof import("node:path")>("node:path");

/** Writes `results` to `file` atomically: a temporary file in the same folder, then a rename. */
export const writeResultsFile = async (
  file: string,
  results: PlanResults,
): Promise<E.Either<GeometryError, void>> => {
  const { mkdir, rename, writeFile } = await fsP();
  const { dirname } = await pathM();
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(tmp, `${JSON.stringify(results)}\n`, "utf8");
    await rename(tmp, file);
    return E.right(undefined);
  } catch (e) {
    return E.left(
      geometryError(
        "io",
        `cannot write result file ${file}: ${(e as Error).message}; check the path and permissions`,
        { path: file, fix: "check the path and permissions" },
      ),
    );
  }
};

/**
 * Reads a result file: `Right(null)` when it does not exist, `Right(results)` when valid, and a
 * `Left` when it cannot be read, is not JSON, or is not a result file.
 */
export const readResultsFile = async (
  file: string,
): Promise<E.Either<GeometryError, PlanResults | null>> => {
  const { readFile } = await fsP();
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return E.right(null);
    return E.left(
      geometryError("io", `cannot read result file ${file}: ${(e as Error).message}`, {
        path: file,
      }),
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return E.left(
      geometryError(
        "corrupt",
        `result file ${file} is not valid JSON (${(e as Error).message}): delete it to start over`,
        { path: file, fix: "delete it to start over" },
      ),
    );
  }
  const decoded = decode(PlanResultsC, json, { tag: "GeometryError", kind: "corrupt" });
  if (E.isLeft(decoded)) {
    return E.left(
      geometryError(
        "corrupt",
        `result file ${file} is not a wider-geometry result file (${decoded.left.message}): delete it or choose another file`,
        { path: file, fix: "delete it or choose another file" },
      ),
    );
  }
  return E.right(decoded.right as PlanResults);
};
