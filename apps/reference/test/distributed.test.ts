/**
 * `wider sweep` and `wider worker` end to end against a real redis-server: a sweep of 6 tiny runs
 * over 3 worker processes gives every result exactly once and an aggregate per configuration; a
 * worker SIGKILLed mid-run has its job taken up by another (after the lock expires) and resumed
 * from the shared checkpoint, nothing lost or duplicated.
 */

import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, readDuplicates, readResults, readSweep } from "@wider/distributed";
import { haveRedis, startRedis, type TestRedis } from "@wider/distributed/testing";
import { orThrow } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SeedReport } from "../src/aggregate.js";
import { configDirName, progressBar, resolveSweepConfig } from "../src/commands/sweep.js";
import { runCli, start, tempDir } from "./helpers.js";

/** Tiny runs: MLP, 256 images, 2 epochs, no geometry beyond one 3-point segment, no trajectory analysis. */
const tinyBase = {
  trainSubset: 256,
  testSubset: 200,
  batchSize: 32,
  epochs: 2,
  swaStart: 1,
  rays: 0,
  segmentPoints: 3,
  planeGrid: 0,
  geometrySubset: 100,
  trajectoryGrid: 0,
  backend: "wasm",
};

const writeSpec = (dir: string, spec: unknown): string => {
  const file = join(dir, "sweep.json");
  writeFileSync(file, JSON.stringify(spec));
  return file;
};

describe("sweep helpers", () => {
  it("resolves a spec configuration over the defaults and checks it like a config file", () => {
    const c = resolveSweepConfig("s.json")({ epochs: 3, swaStart: 2, lr: 0.2 });
    expect(c).toMatchObject({
      epochs: 3,
      swaStart: 2,
      lr: 0.2,
      model: "mlp",
      out: "(set by the worker)",
    });
    // Deterministic: the defaults' date-stamped out is replaced, so fingerprints do not drift.
    expect(resolveSweepConfig("s.json")({ epochs: 3, swaStart: 2 })).toEqual(
      resolveSweepConfig("s.json")({ swaStart: 2, epochs: 3 }),
    );
    expect(() => resolveSweepConfig("s.json")({ out: "x" })).toThrow(
      /"out" cannot be set in a sweep/,
    );
    expect(() => resolveSweepConfig("s.json")({ lr: -1 })).toThrow(
      /"lr" in s\.json: -1 is not allowed/,
    );
    expect(() => resolveSweepConfig("s.json")({ epochs: 2, swaStart: 5 })).toThrow(/swaStart/);
    expect(() => resolveSweepConfig("s.json")({ bogus: 1 })).toThrow(/unknown field "bogus"/);
  });

  it("names configuration directories and draws the progress bar", () => {
    expect(configDirName({ lr: 0.05, model: "cnn" })).toBe("lr-0.05_model-cnn");
    expect(configDirName({})).toBe("base");
    expect(configDirName({ s: "../../x" })).not.toContain("/");
    expect(progressBar(3, 6, 10)).toBe("[#####-----] 3/6");
    expect(progressBar(0, 0, 4)).toBe("[####] 0/0");
  });
});

describe.skipIf(!haveRedis)("wider sweep / wider worker", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis({ password: "wider-test" });
  });
  afterAll(async () => {
    await redis.stop();
  });

  it("the package's Lefts reach the user as one-line errors with their exit codes", async () => {
    const tmp = tempDir("wider-sweep-faults-");
    const queue = "faults";
    const firstLine = (r: { stderr: string }) => r.stderr.split("\n")[0] ?? "";
    // A bad URL (config): exit 2 before any connection.
    const badUrl = await runCli(["sweep", "status", "--redis", "http://h", "--queue", queue]);
    expect(badUrl.code).toBe(2);
    expect(firstLine(badUrl)).toMatch(/^wider: --redis: "http:" is not a Redis scheme/);
    // A missing sweep (io): exit 1, naming the sweep.
    const missing = await runCli([
      "sweep",
      "status",
      "--redis",
      redis.url,
      "--queue",
      queue,
      "--name",
      "nope",
    ]);
    expect(missing.code).toBe(1);
    expect(firstLine(missing)).toMatch(
      /^wider: no sweep named "nope" in queue faults \(none submitted yet\); submit it first/,
    );
    // A re-submission with other jobs (conflict): exit 2.
    const a = writeSpec(tmp, { name: "same", base: tinyBase, seeds: [0] });
    expect(
      (await runCli(["sweep", "--spec", a, "--redis", redis.url, "--queue", queue])).code,
    ).toBe(0);
    const b = writeSpec(tmp, { name: "same", base: tinyBase, seeds: [1] });
    const conflict = await runCli(["sweep", "--spec", b, "--redis", redis.url, "--queue", queue]);
    expect(conflict.code).toBe(2);
    expect(firstLine(conflict)).toMatch(
      /^wider: sweep same was submitted before with other jobs; give this sweep another name/,
    );
    // A wrong password (a Redis failure): exit 1, with the fix.
    const wrong = await runCli([
      "sweep",
      "status",
      "--redis",
      redis.url.replace("wider-test", "wrong"),
      "--queue",
      queue,
    ]);
    expect(wrong.code).toBe(1);
    expect(firstLine(wrong)).toMatch(
      /^wider: Redis: .*(WRONGPASS|NOAUTH).*; check that redis-server runs at the --redis URL/,
    );
    expect(wrong.stderr).not.toContain("wider-test");
    // A worker with a wrong password stops at once (it waited forever before).
    const worker = await runCli([
      "worker",
      "--redis",
      redis.url.replace("wider-test", "wrong"),
      "--queue",
      queue,
      "--dir",
      join(tmp, "work"),
    ]);
    expect(worker.code).toBe(1);
    expect(firstLine(worker)).toMatch(/^wider: Redis: .*(WRONGPASS|NOAUTH)/);
  });

  it("6 jobs over 3 worker processes: every result exactly once, aggregate per configuration", async () => {
    const tmp = tempDir("wider-sweep-");
    const work = join(tmp, "work");
    const queue = "six";
    const spec = writeSpec(tmp, {
      name: "six",
      base: tinyBase,
      grid: { lr: [0.05, 0.1, 0.2] },
      seeds: [0, 1],
    });
    const submitted = await runCli([
      "sweep",
      "--spec",
      spec,
      "--redis",
      redis.url,
      "--queue",
      queue,
    ]);
    expect(submitted.stderr).toBe("");
    expect(submitted.stdout).toMatch(/6 jobs \(3 configurations x 2 seeds\).*6 added/);
    expect(submitted.stdout).not.toContain("wider-test"); // the password is not printed
    const workers = [0, 1, 2].map(() =>
      start(["worker", "--redis", redis.url, "--queue", queue, "--dir", work]),
    );
    const status = await runCli([
      "sweep",
      "status",
      "--redis",
      redis.url,
      "--queue",
      queue,
      "--wait",
    ]);
    for (const w of workers) w.child.kill("SIGTERM");
    const exits = await Promise.all(workers.map((w) => w.done));
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(
      "[##############################] 6/6 done, 0 running, 0 waiting, 0 failed",
    );

    const client = orThrow(connect(redis.url));
    const record = orThrow(await readSweep(client, queue, "six"));
    const fps = record.jobs.map((j) => j.fingerprint);
    const results = orThrow(await readResults(client, queue, fps));
    expect(results.size).toBe(6);
    expect(await client.hlen(`wider:${queue}:results`)).toBe(6);
    expect(orThrow(await readDuplicates(client, queue)).size).toBe(0);
    const workersUsed = new Set<string>();
    for (const j of record.jobs) {
      const r = results.get(j.fingerprint);
      if (r === undefined) throw new Error("missing result");
      workersUsed.add(r.worker);
      expect(r.attempt).toBe(1);
      const report = SeedReport.decode(r.output);
      if (E.isLeft(report)) throw new Error("result is not a report");
      expect(report.right.config.seed).toBe(j.seed);
      expect(report.right.config.out).toBe(join(work, "runs", j.fingerprint));
      expect(existsSync(join(work, "runs", j.fingerprint, "report.json"))).toBe(true);
    }
    expect(readdirSync(join(work, "runs")).sort()).toEqual([...fps].sort());
    expect(workersUsed.size).toBeGreaterThan(1);
    // Each worker logged each of its jobs once: 6 starts in all.
    const starts = exits.flatMap((e) =>
      e.stdout.split("\n").filter((l) => / starting six /.test(l)),
    );
    expect(starts).toHaveLength(6);

    const out = join(tmp, "report");
    const res = await runCli([
      "sweep",
      "results",
      "--redis",
      redis.url,
      "--queue",
      queue,
      "--out",
      out,
    ]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    for (const name of ["lr-0.05", "lr-0.1", "lr-0.2"]) {
      expect(existsSync(join(out, name, "aggregate.json"))).toBe(true);
      expect(existsSync(join(out, name, "seed-1", "report.json"))).toBe(true);
    }
    expect(res.stdout).toMatch(/\| lr-0\.1 \| 2 of 2 \| .*sgd \d+\.\d\d ± \d+\.\d\d/);
    // Re-submitting the same sweep adds nothing.
    const again = await runCli(["sweep", "--spec", spec, "--redis", redis.url, "--queue", queue]);
    expect(again.stdout).toMatch(/0 added, 6 done already/);
    client.disconnect();
  });

  it("a worker SIGKILLed mid-run: the job is retried by another, resumes from the shared checkpoint, one result each", async () => {
    const tmp = tempDir("wider-kill-");
    const work = join(tmp, "work");
    const queue = "kill";
    const spec = writeSpec(tmp, {
      name: "kill",
      base: { ...tinyBase, trainSubset: 512, epochs: 4, swaStart: 2 },
      seeds: [0, 1],
    });
    expect(
      (await runCli(["sweep", "--spec", spec, "--redis", redis.url, "--queue", queue])).code,
    ).toBe(0);
    // A 10 s lock: short enough to see the SIGKILL within seconds, long enough that a live
    // worker on a loaded 2-core machine (load 15 seen) is not falsely declared dead while it
    // evaluates (with 3 s it was, and the job then ran twice: a counted duplicate).
    const flags = [
      "--redis",
      redis.url,
      "--queue",
      queue,
      "--dir",
      work,
      "--lock-ms",
      "10000",
      "--stalled-ms",
      "1000",
    ];
    const victim = start(["worker", ...flags]);
    // Kill it once its first run has written a checkpoint (an epoch done), i.e. mid-run.
    const client = orThrow(connect(redis.url));
    const record = orThrow(await readSweep(client, queue, "kill"));
    const deadline = Date.now() + 60_000;
    let killedIn: string | null = null;
    while (killedIn === null && Date.now() < deadline) {
      for (const j of record.jobs)
        if (existsSync(join(work, "runs", j.fingerprint, "checkpoint", "manifest.json")))
          killedIn = j.fingerprint;
      if (killedIn === null) await new Promise((r) => setTimeout(r, 50));
    }
    if (killedIn === null) throw new Error("no run started");
    victim.child.kill("SIGKILL");
    const killed = await victim.done;
    expect(killed.signal).toBe("SIGKILL");
    expect(existsSync(join(work, "runs", killedIn, "report.json"))).toBe(false);
    const rescuers = [0, 1].map(() => start(["worker", ...flags]));
    const status = await runCli([
      "sweep",
      "status",
      "--redis",
      redis.url,
      "--queue",
      queue,
      "--wait",
    ]);
    for (const w of rescuers) w.child.kill("SIGTERM");
    const exits = await Promise.all(rescuers.map((w) => w.done));
    expect(status.stdout).toContain("2/2 done");
    const results = orThrow(
      await readResults(
        client,
        queue,
        record.jobs.map((j) => j.fingerprint),
      ),
    );
    expect(results.size).toBe(2);
    expect(await client.hlen(`wider:${queue}:results`)).toBe(2);
    // At-least-once execution, exactly-once results: under load BullMQ may also hand a live but
    // busy worker's job to another (a missed lock renewal); its second result is refused and counted.
    for (const key of orThrow(await readDuplicates(client, queue)).keys())
      expect(record.jobs.map((j) => j.fingerprint)).toContain(key);
    const retried = results.get(killedIn);
    expect(retried?.attempt).toBe(2);
    expect(retried?.worker).not.toContain(`/${victim.child.pid}`);
    const log = exits.map((e) => e.stdout).join("\n");
    expect(log).toMatch(
      new RegExp(`resuming kill \\{\\} seed \\d \\(attempt 2\\) in .*${killedIn}`),
    );
    client.disconnect();
  });

  it("a job whose dataDir lies outside the worker's directories fails at once, and nothing runs", async () => {
    const tmp = tempDir("wider-evil-");
    const queue = "evil";
    const spec = writeSpec(tmp, {
      name: "evil",
      base: { ...tinyBase, dataDir: "/etc" },
      seeds: [0],
    });
    expect(
      (await runCli(["sweep", "--spec", spec, "--redis", redis.url, "--queue", queue])).code,
    ).toBe(0);
    const w = start(["worker", "--redis", redis.url, "--queue", queue, "--dir", join(tmp, "work")]);
    const status = await runCli([
      "sweep",
      "status",
      "--redis",
      redis.url,
      "--queue",
      queue,
      "--wait",
    ]);
    w.child.kill("SIGTERM");
    const exit = await w.done;
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/0\/1 done, 0 running, 0 waiting, 1 failed/);
    expect(status.stdout).toMatch(/dataDir: "\/etc" lies outside the worker's directories/);
    expect(exit.stdout).not.toMatch(/starting evil/);
    expect(existsSync(join(tmp, "work", "runs"))).toBe(false);
  });

  it("Redis restarted mid-sweep (appendonly): finished results survive, the sweep completes", async () => {
    const persistent = await startRedis({ appendonly: true });
    try {
      const tmp = tempDir("wider-restart-");
      const queue = "restart";
      const spec = writeSpec(tmp, { name: "restart", base: tinyBase, seeds: [0, 1, 2] });
      expect(
        (await runCli(["sweep", "--spec", spec, "--redis", persistent.url, "--queue", queue])).code,
      ).toBe(0);
      const w = start([
        "worker",
        "--redis",
        persistent.url,
        "--queue",
        queue,
        "--dir",
        join(tmp, "work"),
      ]);
      let client = orThrow(connect(persistent.url));
      const record = orThrow(await readSweep(client, queue, "restart"));
      const fps = record.jobs.map((j) => j.fingerprint);
      let first = orThrow(await readResults(client, queue, fps));
      const deadline = Date.now() + 60_000;
      while (first.size === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        first = orThrow(await readResults(client, queue, fps));
      }
      expect(first.size).toBeGreaterThan(0);
      client.disconnect();
      await persistent.stop();
      await new Promise((r) => setTimeout(r, 500));
      await persistent.restart();
      const status = await runCli([
        "sweep",
        "status",
        "--redis",
        persistent.url,
        "--queue",
        queue,
        "--wait",
      ]);
      w.child.kill("SIGTERM");
      await w.done;
      expect(status.stdout).toContain("3/3 done");
      client = orThrow(connect(persistent.url));
      const all = orThrow(await readResults(client, queue, fps));
      expect(all.size).toBe(3);
      for (const [fp, r] of first) expect(all.get(fp)).toEqual(r);
      client.disconnect();
    } finally {
      await persistent.stop();
    }
  });
});
