/**
 * Distributed geometry from the CLI: the same tiny run twice, once with its geometry phase local
 * and once with `--geometry-redis` (every ray, segment and plane point a job for 2 `wider worker`
 * processes on a real redis-server). The reports' geometry results are equal, bit for bit (same
 * wasm backend, `toEqual` on the numbers), and the points were indeed evaluated by the workers.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@wider/distributed";
import { haveRedis, startRedis, type TestRedis } from "@wider/distributed/testing";
import { orThrow } from "@wider/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, start, tempDir } from "./helpers.js";

const tiny = [
  "--train-subset",
  "128",
  "--test-subset",
  "100",
  "--batch-size",
  "16",
  "--epochs",
  "2",
  "--swa-start",
  "1",
  "--rays",
  "1",
  "--ray-points",
  "3",
  "--segment-points",
  "3",
  "--plane-grid",
  "3",
  "--geometry-subset",
  "64",
  "--backend",
  "wasm",
  "--quiet",
];

describe("--geometry-redis flags", () => {
  it("needs --geometry-dir, and its companions need it", async () => {
    const a = await runCli(["--geometry-redis", "redis://127.0.0.1:1", ...tiny]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--geometry-dir DIR is required/);
    const b = await runCli(["--geometry-dir", "/tmp", ...tiny]);
    expect(b.stderr).toMatch(/apply with --geometry-redis URL/);
    const c = await runCli(["--geometry-redis", "http://x", "--geometry-dir", "/tmp", ...tiny]);
    expect(c.stderr).toMatch(/--geometry-redis: "http:" is not a Redis scheme/);
  });
});

describe.skipIf(!haveRedis)("wider --geometry-redis with wider worker", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it("rays, segment and a 3 x 3 plane over 2 workers equal the local geometry bit for bit", async () => {
    const tmp = tempDir("wider-geo-");
    const work = join(tmp, "shared");
    const queue = "geo";
    const local = await runCli(["--out", join(tmp, "local"), ...tiny]);
    expect(local.code).toBe(0);
    const workers = [0, 1].map(() =>
      start(["worker", "--redis", redis.url, "--queue", queue, "--dir", work]),
    );
    const remote = await runCli([
      "--out",
      join(tmp, "remote"),
      "--geometry-redis",
      redis.url,
      "--geometry-dir",
      work,
      "--geometry-queue",
      queue,
      ...tiny,
    ]);
    for (const w of workers) w.child.kill("SIGTERM");
    const exits = await Promise.all(workers.map((w) => w.done));
    expect(remote.stderr).not.toContain("wider:");
    expect(remote.code).toBe(0);
    expect(exits.map((e) => e.code)).toEqual([0, 0]);

    const read = (d: string) => JSON.parse(readFileSync(join(tmp, d, "report.json"), "utf8"));
    const a = read("local");
    const b = read("remote");
    // The same training (deterministic), so the same anchors.
    expect(b.results.sgd).toEqual(a.results.sgd);
    const { seconds: _s1, ...ga } = a.geometry;
    const { seconds: _s2, ...gb } = b.geometry;
    expect(gb).toEqual(ga);
    expect(ga.plane.results).toHaveLength(9);
    expect(ga.points).toBe(2 * 3 + 3 + 9);

    // Every point was a job, its result stored once, by the workers.
    const client = orThrow(connect(redis.url));
    expect(await client.hlen(`wider:${queue}:results`)).toBe(18);
    expect(await client.hlen(`wider:${queue}:plans`)).toBe(4); // 2 rays, segment, plane
    const logs = exits.map((e) => e.stdout).join("\n");
    expect(logs.match(/ stored after /g)?.length).toBe(18);
    client.disconnect();
  }, 600_000);
});
