import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Bundle,
  canonicalJson,
  disposeWeights,
  loadBundle,
  loadWeights,
  MANIFEST_FILE,
  readManifest,
  saveBundle,
  saveWeights,
  type Weights,
} from "../src/index.js";

const FIXTURES = join(import.meta.dirname, "fixtures");
/** The name an object literal loses (kept in a variable: property access would mean the prototype). */
const PROTO = "__proto__";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "wider-integrity-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
let counter = 0;
const freshDir = () => join(root, `d${counter++}`);

const disposeBundle = (b: Bundle) => {
  for (const g of Object.values(b.groups)) disposeWeights(g);
};

/** What a loaded bundle holds, as plain data (own keys in order, shapes, dtypes, exact values). */
const snapshot = (b: Bundle) =>
  JSON.stringify({
    groups: Object.keys(b.groups).map((g) => [
      g,
      Object.entries(b.groups[g] as Weights).map(([k, x]) => [
        k,
        x.shape,
        x.dtype,
        Array.from(x.dataSync(), (v) => (Object.is(v, -0) ? "-0" : Number.isNaN(v) ? "NaN" : v)),
      ]),
    ]),
    metadata: b.metadata ?? "(none)",
  });

const CORRUPT =
  /^checkpoint is corrupt: .+: .+; it was edited or damaged after saving, save it again$/;
const OLDER = /was written by an older version of @wider\/weights \(format version 1/;

/** Loads `dir`: a Right must equal `expected`; a Left must be a clear refusal. Never leaks. */
const expectSameOrRefused = async (dir: string, expected: string): Promise<"same" | "refused"> => {
  const before = tf.memory().numTensors;
  const r = await loadBundle(dir);
  if (E.isRight(r)) {
    expect(snapshot(r.right)).toBe(expected);
    disposeBundle(r.right);
    expect(tf.memory().numTensors).toBe(before);
    return "same";
  }
  expect(r.left.message).toMatch(
    new RegExp(`${CORRUPT.source}|${OLDER.source}|written by a newer version`),
  );
  expect(tf.memory().numTensors).toBe(before);
  return "refused";
};

const expectCorrupt = async (dir: string, pattern: RegExp) => {
  const before = tf.memory().numTensors;
  const r = await loadBundle(dir);
  expect(E.isLeft(r)).toBe(true);
  if (E.isLeft(r)) {
    expect(r.left.message).toMatch(CORRUPT);
    expect(r.left.message).toMatch(pattern);
  }
  expect(tf.memory().numTensors).toBe(before);
};

/** The fields the edits below touch, in a manifest read as raw JSON. */
interface RawManifest {
  metadata: Record<string, number>;
  tensors: Array<{ offset: number; shape: number[] }>;
  version: number;
  manifestSha256?: string;
}

const editManifest = async (dir: string, edit: (m: RawManifest) => void) => {
  const file = join(dir, MANIFEST_FILE);
  const m = JSON.parse(await readFile(file, "utf8"));
  edit(m);
  await writeFile(file, JSON.stringify(m, null, 1));
};

describe("issue 15: edits to a checkpoint are refused, not loaded", () => {
  it("metadata epoch 10 -> 11", async () => {
    const dir = freshDir();
    const w = { "d/kernel": tf.ones([2, 5]) };
    orThrow(await saveWeights(dir, w, { epoch: 10 }));
    await editManifest(dir, (m) => {
      m.metadata.epoch = 11;
    });
    await expectCorrupt(dir, /manifest\.json: its contents do not match its manifestSha256/);
    disposeWeights(w);
  });

  it("two tensors' offsets swapped, a [2,5] tensor reshaped to [5,2]", async () => {
    const dir = freshDir();
    const w = { a: tf.range(0, 10).reshape([2, 5]), b: tf.range(10, 20).reshape([10]) };
    orThrow(await saveWeights(dir, w));
    const original = await readFile(join(dir, MANIFEST_FILE), "utf8");
    await editManifest(dir, (m) => {
      const [a, b] = m.tensors;
      if (a === undefined || b === undefined) throw new Error("expected two tensors");
      [a.offset, b.offset] = [b.offset, a.offset];
    });
    await expectCorrupt(dir, /do not match its manifestSha256/);
    await writeFile(join(dir, MANIFEST_FILE), original);
    await editManifest(dir, (m) => {
      (m.tensors[0] as { shape: number[] }).shape = [5, 2];
    });
    await expectCorrupt(dir, /do not match its manifestSha256/);
    // The untouched manifest still loads.
    await writeFile(join(dir, MANIFEST_FILE), original);
    const ok = orThrow(await loadWeights(dir));
    expect(ok.weights.a!.shape).toEqual([2, 5]);
    disposeWeights(ok.weights);
    disposeWeights(w);
  });

  it("an averager-style state's n from 1 to 1e6", async () => {
    const dir = freshDir();
    const mean = { k: tf.ones([3]) };
    orThrow(await saveBundle(dir, { groups: { mean }, metadata: { kind: "averager", n: 1 } }));
    await editManifest(dir, (m) => {
      m.metadata.n = 1e6;
    });
    await expectCorrupt(dir, /do not match its manifestSha256/);
    // readManifest (used to read run state without the blob) refuses it too.
    const r = await readManifest(dir);
    expect(E.isLeft(r) && r.left.message).toMatch(CORRUPT);
    disposeWeights(mean);
  });

  it("a manifest with a removed or mangled manifestSha256 is refused", async () => {
    const dir = freshDir();
    const w = { k: tf.ones([3]) };
    orThrow(await saveWeights(dir, w, { epoch: 1 }));
    await editManifest(dir, (m) => {
      delete m.manifestSha256;
    });
    await expectCorrupt(dir, /\$\.manifestSha256 is missing; expected a sha256/);
    disposeWeights(w);
  });
});

describe("golden checkpoints written by an independent Python writer (scripts/make_fixtures.py)", () => {
  it("format 2 loads with the values torch wrote, __proto__ names and metadata kept", async () => {
    const expected = JSON.parse(
      await readFile(join(FIXTURES, "checkpoint-v2.expected.json"), "utf8"),
    ) as {
      groups: string[];
      tensors: Array<{ group: string; name: string; shape: number[]; values: number[] }>;
      metadata: unknown;
    };
    const before = tf.memory().numTensors;
    const b = orThrow(await loadBundle(join(FIXTURES, "checkpoint-v2")));
    expect(Object.keys(b.groups)).toEqual(expected.groups);
    expect(Object.keys(b.groups[PROTO] as Weights)).toEqual(["constructor", "__proto__"]);
    for (const e of expected.tensors) {
      const x = (b.groups[e.group] as Weights)[e.name] as tf.Tensor;
      expect(Object.hasOwn(b.groups[e.group] as Weights, e.name)).toBe(true);
      expect(x.shape).toEqual(e.shape);
      // Exact: the values are float32 (or int32) both sides.
      expect(Array.from(x.dataSync())).toEqual(e.values);
    }
    expect(canonicalJson(b.metadata)).toBe(canonicalJson(expected.metadata));
    expect(Object.hasOwn(b.metadata as object, "__proto__")).toBe(true);
    disposeBundle(b);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("format 1 is refused as written by an older version, naming the fix", async () => {
    const r = await loadBundle(join(FIXTURES, "checkpoint-v1"));
    expect(E.isLeft(r)).toBe(true);
    if (E.isLeft(r)) {
      expect(r.left.kind).toBe("version");
      expect(r.left.message).toMatch(OLDER);
      expect(r.left.message).toMatch(/save the weights again/);
    }
  });

  it("a newer format is refused naming the upgrade", async () => {
    const dir = freshDir();
    await cp(join(FIXTURES, "checkpoint-v2"), dir, { recursive: true });
    await editManifest(dir, (m) => {
      m.version = 3;
    });
    const r = await loadBundle(dir);
    expect(E.isLeft(r) && r.left.message).toMatch(
      /written by a newer version of @wider\/weights \(format version 3\).*upgrade @wider\/weights/,
    );
  });
});

// -------------------------------------------------------------------------------------
// properties
// -------------------------------------------------------------------------------------

const nameArb = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "toString", "weights", "a/b", "", "é"),
  fc.string({ maxLength: 5 }),
);

/** A bundle spec: groups of named tensors (shape, dtype, seed) and optional JSON metadata. */
const bundleArb = fc.record({
  groups: fc.uniqueArray(
    fc.tuple(
      nameArb,
      fc.uniqueArray(
        fc.tuple(
          nameArb,
          fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
          fc.constantFrom("float32" as const, "int32" as const),
        ),
        { maxLength: 3, selector: (t) => t[0] },
      ),
    ),
    { minLength: 1, maxLength: 3, selector: (g) => g[0] },
  ),
  metadata: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
});

type BundleSpec = typeof bundleArb extends fc.Arbitrary<infer A> ? A : never;

const buildBundle = (spec: BundleSpec): Bundle => {
  const groups: Record<string, Weights> = {};
  let i = 0;
  for (const [g, ts] of spec.groups) {
    const w: Record<string, tf.Tensor> = {};
    for (const [name, shape, dtype] of ts) {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: size }, (_, j) =>
        dtype === "int32" ? i * 7 - j : (i + j) / 3,
      );
      Object.defineProperty(w, name, {
        value: tf.tensor(values, shape, dtype),
        enumerable: true,
        configurable: true,
        writable: true,
      });
      i++;
    }
    Object.defineProperty(groups, g, {
      value: w,
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  // fc.jsonValue is JSON-safe by construction; the cast narrows `unknown` to the Json it is.
  return spec.metadata === undefined
    ? { groups }
    : { groups, metadata: spec.metadata as Bundle["metadata"] & object };
};

/** Every path to a value (leaf or not) in a JSON tree, e.g. ["tensors", 0, "shape"]. */
const pathsOf = (
  v: unknown,
  prefix: Array<string | number> = [],
): Array<Array<string | number>> => {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) out.push(...pathsOf(v[i], [...prefix, i]));
  } else if (typeof v === "object" && v !== null)
    for (const k of Object.keys(v))
      out.push(...pathsOf((v as Record<string, unknown>)[k], [...prefix, k]));
  return out;
};

const setAt = (root: unknown, path: Array<string | number>, value: unknown): void => {
  let cur = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  Object.defineProperty(cur, last, { value, enumerable: true, configurable: true, writable: true });
};

describe("properties: any single change is either harmless or refused, never a different Right", () => {
  it("round-trips any bundle (names like __proto__ included), and a single-byte change of the manifest or the blob loads the same values or is refused", async () => {
    let refused = 0;
    let same = 0;
    await fc.assert(
      fc.asyncProperty(
        bundleArb,
        fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.integer({ min: 1, max: 255 })), {
          minLength: 4,
          maxLength: 4,
        }),
        async (spec, edits) => {
          const bundle = buildBundle(spec);
          const dir = freshDir();
          orThrow(await saveBundle(dir, bundle));
          const loaded = orThrow(await loadBundle(dir));
          const expected = snapshot(loaded);
          disposeBundle(loaded);
          // Round trip: what was saved is what loads.
          expect(expected).toBe(snapshot(bundle));
          const manifestFile = join(dir, MANIFEST_FILE);
          const blobFile = join(dir, JSON.parse(await readFile(manifestFile, "utf8")).blob);
          for (const [inBlob, pos, xor] of edits) {
            const file = inBlob ? blobFile : manifestFile;
            const bytes = await readFile(file);
            if (bytes.length === 0) continue;
            const changed = Buffer.from(bytes);
            const at = pos % changed.length;
            changed[at] = (changed[at] as number) ^ xor;
            await writeFile(file, changed);
            if ((await expectSameOrRefused(dir, expected)) === "same") same++;
            else refused++;
            await writeFile(file, bytes);
          }
          // A whitespace byte changed to other whitespace is harmless: it must load the same.
          const text = await readFile(manifestFile);
          const ws = text.indexOf(0x0a, (edits[0]?.[1] ?? 0) % text.length);
          if (ws >= 0 && ws < text.length - 1) {
            const changed = Buffer.from(text);
            changed[ws] = 0x09;
            await writeFile(manifestFile, changed);
            expect(await expectSameOrRefused(dir, expected)).toBe("same");
            same++;
            await writeFile(manifestFile, text);
          }
          disposeBundle(bundle);
          await rm(dir, { recursive: true, force: true });
        },
      ),
      { numRuns: 40 },
    );
    // Both outcomes occur, so neither branch of the check is vacuous.
    expect(refused).toBeGreaterThan(0);
    expect(same).toBeGreaterThan(0);
  });

  it("a single field of the manifest or its metadata set to another JSON value loads the same values or is refused", async () => {
    await fc.assert(
      fc.asyncProperty(
        bundleArb,
        fc.nat(),
        fc.oneof(
          fc.jsonValue({ maxDepth: 1 }),
          fc.integer({ min: -2, max: 100 }),
          fc.constantFrom(0, 1, 1e6, "float32", "int32", "weights", "__proto__", [2, 5], [5, 2]),
        ),
        async (spec, which, value) => {
          const bundle = buildBundle(spec);
          const dir = freshDir();
          orThrow(await saveBundle(dir, bundle));
          const manifestFile = join(dir, MANIFEST_FILE);
          const m = JSON.parse(await readFile(manifestFile, "utf8"));
          const expected = snapshot(bundle);
          const paths = pathsOf(m).filter((p) => p.length > 0);
          const path = paths[which % paths.length] as Array<string | number>;
          setAt(m, path, value);
          await writeFile(manifestFile, JSON.stringify(m, null, 1));
          await expectSameOrRefused(dir, expected);
          disposeBundle(bundle);
          await rm(dir, { recursive: true, force: true });
        },
      ),
      { numRuns: 150 },
    );
  });

  it("canonicalJson: key order does not matter, the text parses back to the value, and differs for different values", () => {
    const shuffleKeys = (v: unknown, seed: number): unknown => {
      if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, seed));
      if (typeof v !== "object" || v === null) return v;
      const keys = Object.keys(v);
      const order = keys
        .map((k, i) => [k, (i * 7919 + seed) % (keys.length + 3)] as const)
        .sort((a, b) => a[1] - b[1]);
      const out: Record<string, unknown> = {};
      for (const [k] of order)
        Object.defineProperty(out, k, {
          value: shuffleKeys((v as Record<string, unknown>)[k], seed),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      return out;
    };
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.nat(), (a, b, seed) => {
        const ca = canonicalJson(a);
        expect(canonicalJson(shuffleKeys(a, seed))).toBe(ca);
        expect(canonicalJson(JSON.parse(ca))).toBe(ca);
        // Equal as JSON (compared key-order-free through sorted re-serialisation) iff equal text.
        const sameValue =
          JSON.stringify(JSON.parse(ca)) === JSON.stringify(JSON.parse(canonicalJson(b)));
        expect(ca === canonicalJson(b)).toBe(sameValue);
      }),
      { numRuns: 300 },
    );
    expect(canonicalJson({ b: 1, a: [true, null, "x"], "": -0.5 })).toBe(
      '{"":-0.5,"a":[true,null,"x"],"b":1}',
    );
  });
});
