/**
 * Against a real redis-server (Debian's, started per suite on a free loopback port): password
 * URLs, path confinement in the worker, re-submission without duplicates, SIGKILL of a worker
 * mid-job, a Redis restart with append-only persistence, and a 5 x 5 plane over 3 worker
 * processes equal to the local `evaluatePlan`.
 */
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { orThrow } from "@wider/errors";
import { disposePlan, evaluatePlan, planeThrough } from "@wider/geometry";
import { disposeWeights, fromModel } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  collectPlan,
  connect,
  decodeSweepSpec,
  evaluatePoint,
  expandSweep,
  jobStates,
  loadPlan,
  publishPlan,
  readDuplicates,
  readEvaluation,
  readResults,
  readSweep,
  startWorker,
  submitSweep,
} from "../src/index.js";
import { freePort, haveRedis, startRedis, type TestRedis } from "../src/testing.js";
import { bnModel, evaluator, pointSetup } from "./planeSetup.js";
import { spawnWorker, type WorkerProcess, waitFor } from "./workers.js";

const sweepSpec = (json: unknown) => orThrow(decodeSweepSpec(json));

const tempDir = (p: string) => mkdtempSync(join(tmpdir(), p));

describe.skipIf(!haveRedis)("with a password (requirepass)", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis({ password: "p@ss:word" });
  });
  afterAll(async () => {
    await redis.stop();
  });

  it("connects with the password in the URL and is refused without it", async () => {
    expect(redis.url).toContain(":p%40ss%3Aword@");
    const c = orThrow(connect(redis.url));
    expect(await c.ping()).toBe("PONG");
    c.disconnect();
    const anon = new Redis({
      port: redis.port,
      host: "127.0.0.1",
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    anon.on("error", () => {});
    await anon.connect().catch(() => {});
    await expect(anon.ping()).rejects.toThrow(/NOAUTH|Authentication/);
    anon.disconnect();
  });

  it("returns recoverable faults as a Left: a missing sweep or evaluation, a record altered in Redis, a wrong password, no Redis at all", async () => {
    const queue = "faults";
    const client = orThrow(connect(redis.url));
    const missing = await readSweep(client, queue, "nope");
    expect(E.isLeft(missing) && missing.left).toMatchObject({
      _tag: "DistributedError",
      kind: "io",
      message: expect.stringMatching(
        /no sweep named "nope" in queue faults \(none submitted yet\)/,
      ),
    });
    const noPlan = await readEvaluation(client, queue, "a".repeat(64));
    expect(E.isLeft(noPlan) && noPlan.left.kind).toBe("io");
    await client.hset(`wider:${queue}:sweeps`, "bad", '{"name":"bad"}');
    await client.hset(`wider:${queue}:sweeps`, "text", "not json");
    const bad = await readSweep(client, queue, "bad");
    expect(E.isLeft(bad) && bad.left).toMatchObject({
      kind: "corrupt",
      message: expect.stringMatching(/^sweep bad's record does not have the expected shape/),
    });
    const text = await readSweep(client, queue, "text");
    expect(E.isLeft(text) && text.left.kind).toBe("corrupt");
    await client.hset(`wider:${queue}:results`, "f".repeat(64), "{}");
    const result = await readResults(client, queue, ["f".repeat(64)]);
    expect(E.isLeft(result) && result.left.kind).toBe("corrupt");
    client.disconnect();

    // A wrong password and a closed port: the Redis failure is a Left (io, path "redis").
    const wrong = orThrow(connect(redis.url.replace("p%40ss%3Aword", "wrong"), { failFast: true }));
    wrong.on("error", () => {});
    const refused = await readSweep(wrong, queue, "x");
    expect(E.isLeft(refused) && refused.left).toMatchObject({
      kind: "io",
      path: "redis",
      message: expect.stringMatching(
        /^Redis: .*(WRONGPASS|NOAUTH).*; check that redis-server runs/,
      ),
    });
    wrong.disconnect();
    const port = await freePort();
    const nobody = orThrow(connect(`redis://127.0.0.1:${port}`, { failFast: true }));
    nobody.on("error", () => {});
    const down = await readSweep(nobody, queue, "x");
    expect(E.isLeft(down) && down.left).toMatchObject({ kind: "io", path: "redis" });
    nobody.disconnect();
    const noWorker = await startWorker({
      redis: "http://h",
      dirs: { work: tempDir("wider-work-") },
      handlers: {},
    });
    expect(E.isLeft(noWorker) && noWorker.left.kind).toBe("config");
    const wrongWorker = await startWorker({
      redis: redis.url.replace("p%40ss%3Aword", "wrong"),
      dirs: { work: tempDir("wider-work-") },
      handlers: {},
    });
    expect(E.isLeft(wrongWorker) && wrongWorker.left).toMatchObject({ kind: "io", path: "redis" });
  });

  it("runs a sweep through an in-process worker; a re-submission adds nothing; a job naming a path outside the worker's directories fails without running", async () => {
    const queue = "pw";
    const dir = tempDir("wider-work-");
    const client = orThrow(connect(redis.url));
    const ran: string[] = [];
    const w = orThrow(
      await startWorker({
        redis: redis.url,
        queue,
        dirs: { work: dir },
        handlers: {
          run: async (job, ctx) => {
            if (typeof job.config.dataDir === "string")
              orThrow(ctx.confine(job.config.dataDir, "dataDir"));
            ran.push(job.fingerprint);
            return { square: Number(job.config.x) ** 2 + job.seed };
          },
        },
      }),
    );
    const spec = sweepSpec({ name: "squares", base: {}, grid: { x: [2, 3] }, seeds: [0, 1] });
    const jobs = orThrow(expandSweep(spec));
    const first = orThrow(await submitSweep(redis.url, queue, client, spec, jobs));
    expect(first.summary).toEqual({ added: 4, done: 0, present: 0, retried: 0 });
    const fps = jobs.map((j) => j.fingerprint);
    const results = await waitFor(
      async () => {
        const r = orThrow(await readResults(client, queue, fps));
        return r.size === 4 ? r : undefined;
      },
      20_000,
      "4 results",
    );
    expect(fps.map((fp) => results.get(fp)?.output)).toEqual([
      { square: 4 },
      { square: 5 },
      { square: 9 },
      { square: 10 },
    ]);
    expect(ran.sort()).toEqual([...fps].sort());
    // Re-submitting: nothing is added, nothing runs again.
    const again = orThrow(await submitSweep(redis.url, queue, client, spec, jobs));
    expect(again.summary).toEqual({ added: 0, done: 4, present: 0, retried: 0 });
    expect(orThrow(await readSweep(client, queue, "squares")).jobs).toHaveLength(4);
    // Same name, other jobs: refused.
    const other = sweepSpec({ name: "squares", base: {}, grid: { x: [4] }, seeds: [0] });
    const refused = await submitSweep(redis.url, queue, client, other, orThrow(expandSweep(other)));
    expect(E.isLeft(refused) && refused.left).toMatchObject({
      _tag: "DistributedError",
      kind: "conflict",
      message: expect.stringMatching(/another name/),
    });

    // Path confinement: /etc is outside the worker's directory.
    const evil = sweepSpec({ name: "evil", base: { x: 1, dataDir: "/etc" }, seeds: [0] });
    const evilJobs = orThrow(expandSweep(evil));
    orThrow(await submitSweep(redis.url, queue, client, evil, evilJobs));
    const fp = evilJobs[0]?.fingerprint ?? "";
    const state = await waitFor(
      async () => {
        const s = orThrow(await jobStates(redis.url, queue, client, [fp])).get(fp);
        return s?.state === "failed" ? s : undefined;
      },
      20_000,
      "the evil job to fail",
    );
    expect(state.error).toMatch(/dataDir: "\/etc" lies outside the worker's directories/);
    expect(state.attempts).toBe(1); // refused for good, not retried
    expect(ran).not.toContain(fp);
    expect(orThrow(await readResults(client, queue, [fp])).size).toBe(0);
    expect(orThrow(await readDuplicates(client, queue)).size).toBe(0);
    await w.close();
    client.disconnect();
  });
});

describe.skipIf(!haveRedis)("worker processes", () => {
  let redis: TestRedis;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    redis = await startRedis({ appendonly: true });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await redis.stop();
  });

  it("a worker SIGKILLed mid-job: its job is taken up by another after the lock expires, one result", async () => {
    const queue = "kill";
    const dir = tempDir("wider-work-");
    const client = orThrow(connect(redis.url));
    const a = spawnWorker(redis.url, queue, dir);
    await a.ready;
    const spec = sweepSpec({ name: "slow", base: { ms: 2500 }, seeds: [7] });
    const jobs = orThrow(expandSweep(spec));
    const fp = jobs[0]?.fingerprint ?? "";
    orThrow(await submitSweep(redis.url, queue, client, spec, jobs));
    const runDir = join(dir, "runs", fp);
    await waitFor(
      async () =>
        readdirSync(dir).includes("runs") && readdirSync(runDir).length > 0 ? true : undefined,
      20_000,
      "the job to start",
    );
    a.child.kill("SIGKILL");
    const b = spawnWorker(redis.url, queue, dir);
    workers.push(b);
    await b.ready;
    const result = await waitFor(
      async () => orThrow(await readResults(client, queue, [fp])).get(fp),
      30_000,
      "the retried job",
    );
    expect(result.output).toMatchObject({ seed: 7, pid: b.child.pid });
    expect(result.attempt).toBe(2);
    const attempts = readdirSync(runDir).sort();
    expect(attempts).toEqual([`attempt-1-${a.child.pid}`, `attempt-2-${b.child.pid}`]);
    expect(orThrow(await jobStates(redis.url, queue, client, [fp])).get(fp)?.state).toBe("done");
    expect(orThrow(await readDuplicates(client, queue)).size).toBe(0);
    client.disconnect();
  });

  it("Redis restarted mid-sweep (append-only persistence) loses no finished result", async () => {
    const queue = "restart";
    const dir = tempDir("wider-work-");
    const ws = [spawnWorker(redis.url, queue, dir), spawnWorker(redis.url, queue, dir)];
    workers.push(...ws);
    await Promise.all(ws.map((w) => w.ready));
    let client = orThrow(connect(redis.url));
    const spec = sweepSpec({
      name: "eight",
      base: { ms: 300 },
      grid: { x: [1, 2, 3, 4] },
      seeds: [0, 1],
    });
    const jobs = orThrow(expandSweep(spec));
    const fps = jobs.map((j) => j.fingerprint);
    orThrow(await submitSweep(redis.url, queue, client, spec, jobs));
    const before = await waitFor(
      async () => {
        const r = orThrow(await readResults(client, queue, fps));
        return r.size >= 3 ? r : undefined;
      },
      20_000,
      "3 results",
    );
    client.disconnect();
    await redis.stop();
    await new Promise((r) => setTimeout(r, 500));
    await redis.restart();
    client = orThrow(connect(redis.url));
    const after = await waitFor(
      async () => {
        const r = orThrow(await readResults(client, queue, fps));
        return r.size === 8 ? r : undefined;
      },
      40_000,
      "all 8 results after the restart",
    );
    for (const [fp, r] of before) expect(after.get(fp)).toEqual(r);
    expect(fps.map((fp) => after.get(fp)?.output)).toEqual(
      jobs.map((j) => expect.objectContaining({ value: Number(j.config.x) * 10 + j.seed })),
    );
    const states = orThrow(await jobStates(redis.url, queue, client, fps));
    expect([...states.values()].every((s) => s.state === "done")).toBe(true);
    client.disconnect();
  });

  for (const backend of ["cpu", "wasm"] as const)
    it(`a 5 x 5 plane over 3 worker processes equals the local evaluatePlan, bit for bit (${backend} backend)`, async () => {
      expect(await tf.setBackend(backend)).toBe(true);
      const queue = `plane-${backend}`;
      const dir = tempDir("wider-shared-");
      const ws = [0, 1, 2].map(() => spawnWorker(redis.url, queue, dir, backend));
      workers.push(...ws);
      const client = orThrow(connect(redis.url));
      const anchors = [1, 2, 3].map((s) => {
        const m = bnModel(s);
        const w = fromModel(m);
        m.dispose();
        return w;
      });
      const plan = planeThrough(anchors[0]!, anchors[1]!, anchors[2]!, { grid: 5 });
      if (E.isLeft(plan)) throw new Error(plan.left.message);
      const setup = pointSetup(evaluator);
      const local = await evaluatePlan(plan.right, { ...setup });
      if (E.isLeft(local)) throw new Error(local.left.message);
      await Promise.all(ws.map((w) => w.ready));
      const published = orThrow(
        await publishPlan({
          redis: redis.url,
          queue,
          client,
          sharedDir: dir,
          plan: plan.right,
          evaluator,
        }),
      );
      expect(published.summary.added).toBe(25);
      const distributed = await waitFor(
        async () => {
          const r = orThrow(await collectPlan(client, queue, published.evaluationId));
          return r.complete ? r : undefined;
        },
        60_000,
        "25 points",
      );
      expect(distributed).toEqual(local.right);
      const workersUsed = new Set(
        [
          ...orThrow(
            await readResults(client, queue, await client.hkeys(`wider:${queue}:results`)),
          ).values(),
        ].map((r) => r.worker),
      );
      expect(workersUsed.size).toBeGreaterThan(1);
      // The saved plan reloads to the same id, and evaluatePoint frees what it makes.
      const reloaded = orThrow(
        await loadPlan(join(dir, "plans", published.planId), published.planId),
      );
      const n = tf.memory().numTensors;
      const p12 = orThrow(await evaluatePoint(reloaded, 12, setup));
      expect(tf.memory().numTensors).toBe(n);
      expect(p12).toEqual(local.right.results[12]);
      disposePlan(reloaded);
      disposePlan(plan.right);
      for (const w of anchors) disposeWeights(w);
      setup.model.dispose();
      client.disconnect();
    });
});
