import { errorKinds, isWiderError, type WiderError, WiderFailure } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  accuracy,
  collectAt,
  expectedCalibrationError,
  initProbabilitySum,
  isEnsemblingError,
  loadSnapshot,
  meanOfSnapshots,
  meanProbabilities,
  snapshotsOnDisk,
} from "../src/index.js";

const thrown = (f: () => unknown): WiderError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WiderFailure);
    expect(isEnsemblingError(e)).toBe(true);
    return e as WiderError;
  }
  throw new Error("expected an EnsemblingError to be thrown");
};

const leftOf = <A>(r: E.Either<WiderError, A>): WiderError => {
  if (E.isRight(r)) throw new Error("expected a Left");
  expect(r.left).not.toBeInstanceOf(Error);
  return r.left;
};

describe("errors: one shape, thrown for options in code, returned for data and files", () => {
  it("every thrown and returned error is an EnsemblingError with a shared kind", async () => {
    const flat = { data: [0.9, 0.1, 0.2, 0.8], numClasses: 2 };
    const errors: Array<[WiderError, string]> = [
      [thrown(() => collectAt(() => true, { maxCount: 0, store: "memory" })), "config"],
      [thrown(() => expectedCalibrationError(flat, [0, 1], { bins: -1 })), "config"],
      [leftOf(accuracy(flat, [0])), "shape"],
      [leftOf(accuracy(flat, [0, 7])), "shape"],
      [leftOf(meanProbabilities(initProbabilitySum())), "config"],
      [leftOf(await meanOfSnapshots([])), "config"],
      [leftOf(await snapshotsOnDisk("/nonexistent/wider-snapshots")), "io"],
      [leftOf(await loadSnapshot({ kind: "disk", step: 1, dir: "/nonexistent/s" })), "io"],
    ];
    for (const [e, kind] of errors) {
      expect(isWiderError(e)).toBe(true);
      expect(errorKinds).toContain(e.kind);
      expect(e._tag).toBe("EnsemblingError");
      expect(e.kind, e.message).toBe(kind);
    }
    expect(errors[0]?.[0]).toMatchObject({ path: "maxCount", value: 0 });
    expect(errors[7]?.[0].path).toBe("/nonexistent/s");
  });
});
