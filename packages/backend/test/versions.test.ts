// The version guard of the wasm training kernels: the exact pin is checked at registration.
import { isWiderError, WiderFailure } from "@wider/errors";
import { describe, expect, it } from "vitest";
import { assertSupportedTfjs, installedTfjsVersions, requiredTfjsVersion } from "../src/index.js";

describe("assertSupportedTfjs", () => {
  it("accepts the installed 4.22.0 pair", () => {
    expect(installedTfjsVersions()).toEqual({ core: "4.22.0", wasm: "4.22.0" });
    expect(() => assertSupportedTfjs()).not.toThrow();
  });

  it("names the installed and required versions of a mismatched tfjs-core", () => {
    expect(() => assertSupportedTfjs({ core: "4.21.0", wasm: requiredTfjsVersion })).toThrow(
      "need @tensorflow/tfjs-core and @tensorflow/tfjs-backend-wasm exactly 4.22.0 (they use the " +
        "wasm backend's internals), but @tensorflow/tfjs-core 4.21.0 is installed. Fix: install " +
        "@tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0",
    );
  });

  it("throws a WiderFailure of kind version, with the installed versions and the fix", () => {
    let caught: unknown;
    try {
      assertSupportedTfjs({ core: "4.21.0", wasm: requiredTfjsVersion });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(WiderFailure);
    expect(isWiderError(caught)).toBe(true);
    expect(caught).toMatchObject({
      _tag: "BackendError",
      kind: "version",
      path: "@tensorflow/tfjs-core",
      value: { core: "4.21.0", wasm: "4.22.0" },
    });
    expect((caught as WiderFailure).fix).toMatch(/^install @tensorflow\/tfjs@4\.22\.0/);
  });

  it("names both when both differ", () => {
    expect(() => assertSupportedTfjs({ core: "4.10.0", wasm: "4.23.0" })).toThrow(
      "but @tensorflow/tfjs-core 4.10.0 and @tensorflow/tfjs-backend-wasm 4.23.0 are installed",
    );
  });
});
