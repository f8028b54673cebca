import { isLeft, isRight, left, right } from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { expect, it, describe as suite } from "vitest";
import {
  decode,
  describe,
  errorFor,
  errorKinds,
  excess,
  isWiderError,
  knownKeys,
  NonEmptyString,
  NonNegativeInt,
  NonNegativeNumber,
  orThrow,
  PositiveInt,
  PositiveNumber,
  raise,
  reportErrors,
  WiderFailure,
  widerError,
} from "../src/index.js";

const leftOf = <E, A>(e: import("fp-ts/lib/Either.js").Either<E, A>): E => {
  if (isRight(e)) throw new Error(`expected a Left, got ${JSON.stringify(e.right)}`);
  return e.left;
};

suite("the error shape", () => {
  it("widerError attaches only the details given (value may be undefined on purpose)", () => {
    expect(widerError("XError", "io", "m")).toEqual({ _tag: "XError", kind: "io", message: "m" });
    const e = widerError("XError", "config", "m", { path: "a.b", value: undefined, fix: "f" });
    expect(Object.keys(e).sort()).toEqual(["_tag", "fix", "kind", "message", "path", "value"]);
  });

  it("WiderFailure is an Error with the same fields, and round-trips to the plain value", () => {
    const plain = errorFor("WeightsError")("shape", "k is [2]", {
      path: "k",
      value: [2],
      fix: "x",
    });
    const thrown = new WiderFailure(plain);
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown.name).toBe("WeightsError");
    expect(thrown.message).toBe("k is [2]");
    expect(thrown.toError()).toEqual(plain);
    expect(isWiderError(thrown)).toBe(true);
    expect(isWiderError(plain)).toBe(true);
    expect(() => raise(plain)).toThrow(WiderFailure);
  });

  it("isWiderError refuses look-alikes with an unknown kind or no tag", () => {
    expect(isWiderError({ _tag: "X", kind: "shape-mismatch", message: "m" })).toBe(false);
    expect(isWiderError({ kind: "io", message: "m" })).toBe(false);
    expect(isWiderError(new Error("m"))).toBe(false);
    expect(isWiderError(null)).toBe(false);
    for (const kind of errorKinds)
      expect(isWiderError({ _tag: "X", kind, message: "" })).toBe(true);
  });

  it("describe appends the fix once", () => {
    expect(describe(widerError("X", "io", "no file", { fix: "pass --data" }))).toBe(
      "no file; pass --data",
    );
    expect(describe(widerError("X", "io", "no file; pass --data", { fix: "pass --data" }))).toBe(
      "no file; pass --data",
    );
  });

  it("orThrow returns a Right and throws a Left as a WiderFailure", () => {
    expect(orThrow(right(3))).toBe(3);
    const e = widerError("X", "config", "bad");
    try {
      orThrow(left(e));
      expect.unreachable();
    } catch (thrown) {
      expect(thrown).toBeInstanceOf(WiderFailure);
      expect((thrown as WiderFailure).toError()).toEqual(e);
    }
  });
});

suite("decode and reports", () => {
  const Options = t.intersection([
    t.type({ cycle: PositiveInt, kind: t.union([t.literal("a"), t.literal("b")]) }),
    t.partial({ rates: t.array(PositiveNumber), name: NonEmptyString }),
  ]);

  it("names the path, the value and the expected type, through intersections and unions", () => {
    const e = leftOf(
      decode(Options, { cycle: 0, kind: "c", rates: [0.1, -1] }, { tag: "ScheduleError" }),
    );
    expect(e._tag).toBe("ScheduleError");
    expect(e.kind).toBe("config");
    expect(e.path).toBe("$.cycle");
    expect(e.value).toBe(0);
    expect(e.message).toBe(
      '$.cycle is 0; expected a positive integer; $.kind is "c"; expected ("a" | "b"); $.rates[1] is -1; expected a finite number > 0',
    );
  });

  it("reports a missing field as missing, with where/root/kind/fix options", () => {
    const e = leftOf(
      decode(
        Options,
        { kind: "a" },
        {
          tag: "DataError",
          kind: "corrupt",
          root: "meta.json",
          where: "loading",
          fix: "rewrite the file",
        },
      ),
    );
    expect(e).toMatchObject({ kind: "corrupt", path: "meta.json.cycle", fix: "rewrite the file" });
    expect(e.message).toBe("loading: meta.json.cycle is missing; expected a positive integer");
  });

  it("counts problems beyond the first three", () => {
    const C = t.type({ a: t.number, b: t.number, c: t.number, d: t.number, e: t.number });
    const e = leftOf(decode(C, {}, { tag: "X" }));
    expect(e.message.endsWith("(and 2 more)")).toBe(true);
    expect(reportErrors(leftOf(C.decode({}))).map((p) => p.path)).toEqual([
      "$.a",
      "$.b",
      "$.c",
      "$.d",
      "$.e",
    ]);
  });

  it("paths step through exact, readonly and refinement wrappers and intersection members", () => {
    const Sweep = t.exact(
      t.intersection([t.type({ seeds: t.array(NonNegativeInt) }), t.partial({ name: t.string })]),
    );
    expect(leftOf(decode(Sweep, { seeds: [1, -2] }, { tag: "X", root: "sweep.json" })).path).toBe(
      "sweep.json.seeds[1]",
    );
    const Ro = t.readonly(t.type({ a: t.type({ b: PositiveInt }) }));
    const e = leftOf(decode(Ro, { a: { b: 0 } }, { tag: "X" }));
    expect(e.path).toBe("$.a.b");
    expect(e.message).toBe("$.a.b is 0; expected a positive integer");
    const Refined = t.refinement(
      t.type({ lo: t.number, hi: t.number }),
      (r) => r.lo < r.hi,
      "lo < hi",
    );
    expect(leftOf(decode(Refined, { lo: 2, hi: 1 }, { tag: "X" })).path).toBe("$");
    expect(leftOf(decode(t.array(Ro), [{ a: { b: 1 } }, { a: 3 }], { tag: "X" })).path).toBe(
      "$[1].a",
    );
  });

  it("decodes valid input unchanged", () => {
    const ok = decode(Options, { cycle: 2, kind: "b", rates: [1] }, { tag: "X" });
    expect(isRight(ok) && ok.right).toEqual({ cycle: 2, kind: "b", rates: [1] });
  });

  it("brands accept and refuse at their edges", () => {
    expect(PositiveInt.is(1)).toBe(true);
    expect(PositiveInt.is(0)).toBe(false);
    expect(PositiveInt.is(1.5)).toBe(false);
    expect(NonNegativeInt.is(0)).toBe(true);
    expect(NonNegativeInt.is(-1)).toBe(false);
    expect(PositiveNumber.is(Number.POSITIVE_INFINITY)).toBe(false);
    expect(PositiveNumber.is(1e-9)).toBe(true);
    expect(NonNegativeNumber.is(0)).toBe(true);
    expect(NonNegativeNumber.is(Number.NaN)).toBe(false);
    expect(NonEmptyString.is("")).toBe(false);
    expect(NonEmptyString.is("x")).toBe(true);
  });
});

suite("excess", () => {
  const Options = t.intersection([t.type({ lr: t.number }), t.partial({ momentum: t.number })]);

  it("knows the keys of type/partial/exact/readonly/intersection codecs", () => {
    expect([...(knownKeys(Options) ?? [])].sort()).toEqual(["lr", "momentum"]);
    expect([...(knownKeys(t.readonly(t.exact(t.type({ a: t.number })))) ?? [])]).toEqual(["a"]);
    expect(knownKeys(t.number)).toBeUndefined();
    expect(() => excess(t.array(t.number))).toThrow(/not an object codec/);
  });

  it("refuses unknown keys, naming each with the known ones", () => {
    const e = leftOf(decode(excess(Options), { lr: 1, lr_init: 2, mom: 3 }, { tag: "X" }));
    expect(e.path).toBe("$.lr_init");
    expect(e.value).toBe(2);
    expect(e.message).toBe(
      "$.lr_init is not a known field (known: lr, momentum); $.mom is not a known field (known: lr, momentum)",
    );
  });

  it("works nested in another codec, and still validates the known keys", () => {
    const Outer = t.type({ optimizer: excess(t.type({ lr: t.number })) });
    expect(leftOf(decode(Outer, { optimizer: { lr: 1, x: 0 } }, { tag: "X" })).path).toBe(
      "$.optimizer.x",
    );
    expect(leftOf(decode(Outer, { optimizer: { lr: "1" } }, { tag: "X" })).path).toBe(
      "$.optimizer.lr",
    );
    expect(isRight(decode(Outer, { optimizer: { lr: 1 } }, { tag: "X" }))).toBe(true);
    expect(isLeft(excess(Options).decode({ lr: 1, z: 1 }))).toBe(true);
  });
});
