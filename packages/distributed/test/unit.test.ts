import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isWiderError, orThrow } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  bullConnection,
  canonicalJson,
  checkFingerprint,
  confine,
  connect,
  decodeStored,
  decodeSweepSpec,
  expandSweep,
  fingerprint,
  gridPoints,
  isDistributedError,
  JobData,
  parseAndDecode,
  redactUrl,
  redisOptions,
} from "../src/index.js";

/** The kind of a returned error, checking it has the one Wider shape. */
const leftKind = (r: E.Either<unknown, unknown>): string | null => {
  if (E.isRight(r)) return null;
  expect(isWiderError(r.left)).toBe(true);
  return isDistributedError(r.left) ? r.left.kind : `not a DistributedError: ${String(r.left)}`;
};

const sweepSpec = (json: unknown) => orThrow(decodeSweepSpec(json));

describe("canonical JSON and fingerprints", () => {
  it("sorts keys at every level and hashes with SHA-256 (oracle: node:crypto on the literal text)", () => {
    const text = canonicalJson({ b: 1, a: [2, { d: 3, c: "x" }], e: undefined });
    expect(text).toBe('{"a":[2,{"c":"x","d":3}],"b":1}');
    expect(fingerprint({ a: [2, { c: "x", d: 3 }], b: 1 })).toBe(
      createHash("sha256").update('{"a":[2,{"c":"x","d":3}],"b":1}').digest("hex"),
    );
    expect(fingerprint({ x: 1, y: 2 })).toBe(fingerprint({ y: 2, x: 1 }));
    expect(fingerprint({ x: 1 })).not.toBe(fingerprint({ x: 1.0000001 }));
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(/finite/);
  });
});

describe("sweep specs", () => {
  const spec = {
    name: "lr-sweep",
    base: { epochs: 2 },
    grid: { lr: [0.05, 0.1], batchSize: [16, 32, 64] },
    seeds: [0, 1],
  };

  it("expands the grid x seeds into jobs with distinct fingerprints, first grid field slowest", () => {
    const jobs = orThrow(expandSweep(sweepSpec(spec)));
    expect(jobs).toHaveLength(12);
    expect(new Set(jobs.map((j) => j.fingerprint)).size).toBe(12);
    expect(new Set(jobs.map((j) => j.configKey)).size).toBe(6);
    expect(jobs.map((j) => [j.label, j.seed]).slice(0, 3)).toEqual([
      [{ lr: 0.05, batchSize: 16 }, 0],
      [{ lr: 0.05, batchSize: 16 }, 1],
      [{ lr: 0.05, batchSize: 32 }, 0],
    ]);
    for (const j of jobs) {
      expect(j.fingerprint).toBe(fingerprint({ kind: "run", config: j.config, seed: j.seed }));
      expect(j.config).toEqual({ epochs: 2, ...j.label });
    }
    // The same spec with keys in another order gives the same jobs.
    const again = orThrow(
      expandSweep(
        sweepSpec({ seeds: [0, 1], grid: spec.grid, base: { epochs: 2 }, name: "lr-sweep" }),
      ),
    );
    expect(again.map((j) => j.fingerprint)).toEqual(jobs.map((j) => j.fingerprint));
    expect(gridPoints({})).toEqual([{}]);
  });

  it("passes each configuration through the runner's resolver before fingerprinting", () => {
    const jobs = orThrow(expandSweep(sweepSpec(spec), (c) => ({ ...c, out: "fixed" })));
    expect(jobs[0]?.config.out).toBe("fixed");
  });

  it("returns a Left (config) when two grid points resolve to one configuration", () => {
    // The resolver drops lr: both grid points become { epochs: 2 }.
    const same = expandSweep(sweepSpec(spec), ({ lr: _lr, ...rest }) => rest);
    expect(leftKind(same)).toBe("config");
    expect(E.isLeft(same) && same.left.message).toMatch(
      /two grid points give the same configuration .*; remove the repeat/,
    );
    // What the resolver throws (the caller's own error) passes through.
    expect(() =>
      expandSweep(sweepSpec(spec), () => {
        throw new RangeError("resolver");
      }),
    ).toThrow(RangeError);
  });

  it("refuses bad specs with a message naming the problem", () => {
    // A spec comes from a file: every fault is a Left of kind config, naming the field.
    for (const bad of [
      { ...spec, seeds: [] },
      { ...spec, seeds: [1, 1] },
      { ...spec, seeds: [-1] },
      { ...spec, name: "../x" },
      { ...spec, extra: 1 },
      { ...spec, grid: { lr: [] } },
      { ...spec, base: { lr: 1 } },
    ])
      expect(leftKind(decodeSweepSpec(bad, "sweep.json")), JSON.stringify(bad)).toBe("config");
    const extra = decodeSweepSpec({ ...spec, extra: 1 }, "sweep.json");
    expect(E.isLeft(extra) && extra.left).toMatchObject({ path: "sweep.json.extra", value: 1 });
    expect(E.isLeft(extra) && extra.left.message).toMatch(
      /sweep\.json\.extra is not a known field \(known: base, grid, name, seeds\)/,
    );
    const seeds = decodeSweepSpec({ ...spec, seeds: [-1] }, "sweep.json");
    expect(E.isLeft(seeds) && seeds.left).toMatchObject({ path: "sweep.json.seeds[0]", value: -1 });
    const empty = decodeSweepSpec({ ...spec, seeds: [] }, "sweep.json");
    expect(E.isLeft(empty) && empty.left.message).toBe(
      'sweep.json: "seeds" is empty; list at least one seed, e.g. [0, 1, 2]',
    );
  });
});

describe("job codecs", () => {
  it("decodes a job and refuses one whose fingerprint does not match its inputs", () => {
    const [job] = orThrow(expandSweep(sweepSpec({ name: "s", base: { a: 1 }, seeds: [3] })));
    if (job === undefined) throw new Error("no job");
    const decoded = orThrow(decodeStored(JobData, JSON.parse(JSON.stringify(job)), "job"));
    expect(checkFingerprint(decoded, job.fingerprint)).toEqual(E.right(decoded));
    const tampered = { ...decoded, config: { a: 2 } };
    const altered = checkFingerprint(tampered, job.fingerprint);
    expect(E.isLeft(altered) && altered.left.message).toMatch(/altered/);
    const otherId = checkFingerprint(decoded, "0".repeat(64));
    expect(E.isLeft(otherId) && otherId.left.message).toMatch(/altered/);
    expect(leftKind(decodeStored(JobData, { ...job, kind: "shell" }, "job"))).toBe("corrupt");
    expect(leftKind(decodeStored(JobData, { ...job, fingerprint: "abc" }, "job"))).toBe("corrupt");
    expect(leftKind(altered)).toBe("corrupt");
    const badShape = decodeStored(JobData, { ...job, fingerprint: "abc" }, "job");
    expect(E.isLeft(badShape) && badShape.left.message).toMatch(
      /^job does not have the expected shape \(it was written by another version.*\): \$/,
    );
    const notJson = parseAndDecode(JobData, "{oops", "job");
    expect(leftKind(notJson)).toBe("corrupt");
    expect(E.isLeft(notJson) && notJson.left.message).toMatch(/^job is not JSON; clear it/);
    expect(parseAndDecode(JobData, JSON.stringify(job), "job")).toEqual(E.right(job));
  });
});

describe("path confinement", () => {
  const root = mkdtempSync(join(tmpdir(), "wider-confine-"));
  const data = mkdtempSync(join(tmpdir(), "wider-data-"));
  mkdirSync(join(root, "runs"));
  symlinkSync("/etc", join(root, "runs", "escape"));

  it("keeps paths inside the roots and refuses the rest", () => {
    expect(confine([root], "runs/abc")).toEqual(E.right(join(root, "runs", "abc")));
    expect(confine([root, data], join(data, "mnist"))).toEqual(E.right(join(data, "mnist")));
    expect(confine([root], root)).toEqual(E.right(root));
    for (const bad of [
      "../x",
      "/etc/passwd",
      "runs/../../x",
      "runs/escape/passwd",
      "",
      "a\0b",
      `${root}-sibling/x`,
    ])
      expect(leftKind(confine([root, data], bad)), bad).toBe("config");
    const outside = confine([root], "/etc/passwd", "dataDir");
    expect(E.isLeft(outside) && outside.left).toMatchObject({
      path: "dataDir",
      value: "/etc/passwd",
      message: expect.stringMatching(/dataDir: "\/etc\/passwd" lies outside/),
    });
    expect(leftKind(confine([], "x"))).toBe("config");
  });
});

describe("Redis URLs", () => {
  it("reads host, port, db, user and a percent-encoded password; rediss:// turns TLS on", () => {
    const options = (url: string) => orThrow(redisOptions(url));
    expect(options("redis://127.0.0.1:6390")).toMatchObject({
      host: "127.0.0.1",
      port: 6390,
      db: 0,
    });
    const o = options("redis://alice:p%40ss%3Aw@redis.example:7000/3");
    expect(o).toMatchObject({
      host: "redis.example",
      port: 7000,
      db: 3,
      username: "alice",
      password: "p@ss:w",
    });
    expect(o.tls).toBeUndefined();
    expect(options("rediss://:pw@cache.example").tls).toEqual({ servername: "cache.example" });
    // No SNI for an IP (RFC 6066; Node warns on it): the certificate's IP SAN is checked instead.
    expect(options("rediss://10.0.0.5:6380").tls).toEqual({});
    expect(options("rediss://[::1]:6380").tls).toEqual({});
    expect(options("redis://h").port).toBe(6379);
    expect(options("redis://h").maxRetriesPerRequest).toBeNull();
    expect(options("redis://[::1]:7000").host).toBe("::1");
    for (const bad of ["http://h", "not a url", "redis://h/x", "redis://h/-1"])
      expect(leftKind(redisOptions(bad)), bad).toBe("config");
    const bad = redisOptions("redis://:pw@h/x");
    expect(leftKind(bad)).toBe("config");
    // The password is not in the error.
    expect(E.isLeft(bad) && bad.left).toMatchObject({ path: "--redis", value: "redis://:***@h/x" });
    expect(E.isLeft(bad) && bad.left.message).not.toContain("pw");
    // connect and bullConnection check the URL the same way.
    expect(leftKind(connect("http://h"))).toBe("config");
    expect(leftKind(bullConnection("redis://h/x"))).toBe("config");
    expect(redactUrl("redis://:secret@h:1/0")).toBe("redis://:***@h:1/0");
    expect(redactUrl("redis://h:1")).toBe("redis://h:1");
  });
});
