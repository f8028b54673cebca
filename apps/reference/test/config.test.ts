import { fileURLToPath } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { configOf, parseCli } from "../src/cliArgs.js";
import { defaultConfig } from "../src/config.js";
import { decodePartial, flagOf, resolveConfig } from "../src/configDecode.js";

const left = <A>(e: E.Either<Error, A>): string => {
  if (E.isRight(e)) throw new Error("expected a Left");
  return e.left.message;
};

describe("config", () => {
  it("maps fields to kebab-case flags", () => {
    expect(flagOf("batchSize")).toBe("--batch-size");
    expect(flagOf("fgeLrMax")).toBe("--fge-lr-max");
  });

  it("accepts a valid partial config and merges it over the defaults", () => {
    const file = decodePartial({ model: "cnn", batchSize: 64 }, { kind: "file", path: "c.json" });
    expect(E.isRight(file)).toBe(true);
    if (E.isLeft(file)) return;
    const c = resolveConfig(defaultConfig(), file.right, {});
    expect(E.isRight(c) && c.right.model === "cnn" && c.right.batchSize === 64).toBe(true);
    expect(E.isRight(c) && c.right.epochs === defaultConfig().epochs).toBe(true);
  });

  it("names the field, the value and what is allowed", () => {
    const m = left(decodePartial({ batchSize: 0 }, { kind: "file", path: "c.json" }));
    expect(m).toContain('field "batchSize" in c.json');
    expect(m).toContain("0 is not allowed");
    expect(m).toContain("an integer >= 1");
    const f = left(decodePartial({ model: "resnet9000" }, { kind: "flags" }));
    expect(f).toContain("flag --model");
    expect(f).toContain('"resnet9000"');
    expect(f).toContain('"mlp", "cnn", "vgg", "preresnet"');
    expect(left(decodePartial({ momentum: 1 }, { kind: "flags" }))).toContain("[0, 1)");
    expect(left(resolveConfig(defaultConfig(), { trajectoryGrid: 1 as never }))).toContain(
      "trajectoryGrid: 1 is not allowed; expected 0 (no trajectory analysis) or a grid of at least 2",
    );
  });

  it("rejects unknown fields and non-objects", () => {
    const m = left(decodePartial({ batchsize: 3 }, { kind: "file", path: "c.json" }));
    expect(m).toContain('unknown field "batchsize"');
    expect(m).toContain("batchSize");
    expect(left(decodePartial([1], { kind: "file", path: "c.json" }))).toContain("JSON object");
  });

  it("checks relations between fields", () => {
    const bad = resolveConfig(defaultConfig(), { epochs: 5 as never, swaStart: 5 as never });
    expect(left(bad)).toContain("swaStart: 5");
    const every = resolveConfig(defaultConfig(), {
      epochs: 10 as never,
      swaStart: 8 as never,
      swaEvery: 3 as never,
    });
    expect(left(every)).toContain("swaEvery: 3");
    const cycle = resolveConfig(defaultConfig(), {
      epochs: 10 as never,
      swaStart: 8 as never,
      fgeCycle: 4 as never,
    });
    expect(left(cycle)).toContain("fgeCycle: 4");
    expect(
      E.isRight(
        resolveConfig(defaultConfig(), {
          epochs: 10 as never,
          swaStart: 8 as never,
          fgeCycle: 3 as never,
        }),
      ),
    ).toBe(true);
    const lr = resolveConfig(defaultConfig(), { fgeLrMin: 0.1 as never, fgeLrMax: 0.05 as never });
    expect(left(lr)).toContain("fgeLrMin");
  });

  it("reads the example config file, and flags override it", async () => {
    const file = fileURLToPath(new URL("../examples/cnn-constant-swa.json", import.meta.url));
    const c = await configOf(parseCli(["--config", file, "--epochs", "12"]));
    expect(c.model).toBe("cnn");
    expect(c.swaSchedule).toEqual({ type: "constant", value: 0.02 });
    expect(c.epochs).toBe(12);
    expect(c.swaStart).toBe(7);
    expect(c.batchSize).toBe(128);
  });
});
