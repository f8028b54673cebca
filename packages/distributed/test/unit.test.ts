import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  checkFingerprint,
  confine,
  DistributedError,
  decodeOrThrow,
  decodeSweepSpec,
  expandSweep,
  fingerprint,
  gridPoints,
  JobData,
  redactUrl,
  redisOptions,
} from "../src/index.js";

const kindOf = (f: () => unknown): string | null => {
  try {
    f();
    return null;
  } catch (e) {
    return e instanceof DistributedError ? e.kind : `not a DistributedError: ${String(e)}`;
  }
};

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
    const jobs = expandSweep(decodeSweepSpec(spec));
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
    const again = expandSweep(
      decodeSweepSpec({ seeds: [0, 1], grid: spec.grid, base: { epochs: 2 }, name: "lr-sweep" }),
    );
    expect(again.map((j) => j.fingerprint)).toEqual(jobs.map((j) => j.fingerprint));
    expect(gridPoints({})).toEqual([{}]);
  });

  it("passes each configuration through the runner's resolver before fingerprinting", () => {
    const jobs = expandSweep(decodeSweepSpec(spec), (c) => ({ ...c, out: "fixed" }));
    expect(jobs[0]?.config.out).toBe("fixed");
  });

  it("refuses bad specs with a message naming the problem", () => {
    expect(kindOf(() => decodeSweepSpec({ ...spec, seeds: [] }))).toBe("spec");
    expect(kindOf(() => decodeSweepSpec({ ...spec, seeds: [1, 1] }))).toBe("spec");
    expect(kindOf(() => decodeSweepSpec({ ...spec, seeds: [-1] }))).toBe("decode");
    expect(kindOf(() => decodeSweepSpec({ ...spec, name: "../x" }))).toBe("decode");
    expect(kindOf(() => decodeSweepSpec({ ...spec, extra: 1 }))).toBe("spec");
    expect(kindOf(() => decodeSweepSpec({ ...spec, grid: { lr: [] } }))).toBe("spec");
    expect(kindOf(() => decodeSweepSpec({ ...spec, base: { lr: 1 } }))).toBe("spec");
    expect(() => decodeSweepSpec({ ...spec, extra: 1 })).toThrow(/unknown field\(s\) extra/);
  });
});

describe("job codecs", () => {
  it("decodes a job and refuses one whose fingerprint does not match its inputs", () => {
    const [job] = expandSweep(decodeSweepSpec({ name: "s", base: { a: 1 }, seeds: [3] }));
    if (job === undefined) throw new Error("no job");
    const decoded = decodeOrThrow(JobData, JSON.parse(JSON.stringify(job)), "job");
    expect(() => checkFingerprint(decoded, job.fingerprint)).not.toThrow();
    const tampered = { ...decoded, config: { a: 2 } };
    expect(() => checkFingerprint(tampered, job.fingerprint)).toThrow(/altered/);
    expect(() => checkFingerprint(decoded, "0".repeat(64))).toThrow(/altered/);
    expect(kindOf(() => decodeOrThrow(JobData, { ...job, kind: "shell" }, "job"))).toBe("decode");
    expect(kindOf(() => decodeOrThrow(JobData, { ...job, fingerprint: "abc" }, "job"))).toBe(
      "decode",
    );
  });
});

describe("path confinement", () => {
  const root = mkdtempSync(join(tmpdir(), "wider-confine-"));
  const data = mkdtempSync(join(tmpdir(), "wider-data-"));
  mkdirSync(join(root, "runs"));
  symlinkSync("/etc", join(root, "runs", "escape"));

  it("keeps paths inside the roots and refuses the rest", () => {
    expect(confine([root], "runs/abc")).toBe(join(root, "runs", "abc"));
    expect(confine([root, data], join(data, "mnist"))).toBe(join(data, "mnist"));
    expect(confine([root], root)).toBe(root);
    for (const bad of [
      "../x",
      "/etc/passwd",
      "runs/../../x",
      "runs/escape/passwd",
      "",
      "a\0b",
      `${root}-sibling/x`,
    ])
      expect(
        kindOf(() => confine([root, data], bad)),
        bad,
      ).toBe("path");
    expect(() => confine([root], "/etc/passwd", "dataDir")).toThrow(
      /dataDir: "\/etc\/passwd" lies outside/,
    );
    expect(kindOf(() => confine([], "x"))).toBe("path");
  });
});

describe("Redis URLs", () => {
  it("reads host, port, db, user and a percent-encoded password; rediss:// turns TLS on", () => {
    expect(redisOptions("redis://127.0.0.1:6390")).toMatchObject({
      host: "127.0.0.1",
      port: 6390,
      db: 0,
    });
    const o = redisOptions("redis://alice:p%40ss%3Aw@redis.example:7000/3");
    expect(o).toMatchObject({
      host: "redis.example",
      port: 7000,
      db: 3,
      username: "alice",
      password: "p@ss:w",
    });
    expect(o.tls).toBeUndefined();
    expect(redisOptions("rediss://:pw@cache.example").tls).toEqual({ servername: "cache.example" });
    // No SNI for an IP (RFC 6066; Node warns on it): the certificate's IP SAN is checked instead.
    expect(redisOptions("rediss://10.0.0.5:6380").tls).toEqual({});
    expect(redisOptions("rediss://[::1]:6380").tls).toEqual({});
    expect(redisOptions("redis://h").port).toBe(6379);
    expect(redisOptions("redis://h").maxRetriesPerRequest).toBeNull();
    expect(redisOptions("redis://[::1]:7000").host).toBe("::1");
    for (const bad of ["http://h", "not a url", "redis://h/x", "redis://h/-1"])
      expect(
        kindOf(() => redisOptions(bad)),
        bad,
      ).toBe("redis-url");
    expect(redactUrl("redis://:secret@h:1/0")).toBe("redis://:***@h:1/0");
    expect(redactUrl("redis://h:1")).toBe("redis://h:1");
  });
});
