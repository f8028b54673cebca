/**
 * `wider swap` end to end against a real redis-server: phase 1 runs in the command, 3 member jobs
 * go to 2 `wider worker` processes, phase 3 writes the report. Checked: every member once, each
 * from the phase-1 state with its own data order; the SWAP row's accuracy equals an independent
 * recomputation (float64 mean of the saved members, assigned to a fresh model, scored here); a
 * second `wider swap` reuses everything.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { connect, readDuplicates, readResults, swapMemberDir } from "@wider/distributed";
import { haveRedis, startRedis, type TestRedis } from "@wider/distributed/testing";
import { orThrow } from "@wider/errors";
import { assignToModel, loadWeights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chooseBackend } from "../src/backend.js";
import { parseSwapArgs } from "../src/commands/swapArgs.js";
import { Config } from "../src/config.js";
import { loadAppDataset } from "../src/dataset.js";
import { predictProbabilities } from "../src/evaluate.js";
import { buildAppModel } from "../src/models.js";
import { memberDataSeed, SwapMemberOutput, SwapTask } from "../src/swap.js";
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
  "0",
  "--segment-points",
  "0",
  "--plane-grid",
  "0",
  "--geometry-subset",
  "100",
  "--backend",
  "wasm",
];

describe("wider swap flags", () => {
  it("splits its own flags from the run's config flags", () => {
    const r = parseSwapArgs([
      "--redis",
      "redis://h",
      "--epochs",
      "3",
      "--workers-jobs=4",
      "--quiet",
    ]);
    expect(r.own).toEqual({ redis: "redis://h", "workers-jobs": "4" });
    expect(r.configFlags).toEqual(["--epochs 3"]);
    expect(r.values.epochs).toBe("3");
    expect(r.quiet).toBe(true);
    expect(() => parseSwapArgs(["--dir"])).toThrow(/--dir needs a value/);
    expect(() => parseSwapArgs(["--dir", "--quiet"])).toThrow(/--dir needs a value before --quiet/);
    expect(() => parseSwapArgs(["--epoch", "3"])).toThrow(/unknown flag --epoch .*--epochs/);
  });

  it("refuses a missing --workers-jobs or --dir with the fix", async () => {
    const a = await runCli(["swap", "--redis", "redis://127.0.0.1:1", "--dir", "/tmp/x"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--workers-jobs W is required/);
    const b = await runCli(["swap", "--redis", "redis://127.0.0.1:1", "--workers-jobs", "2"]);
    expect(b.stderr).toMatch(/--dir DIR is required/);
    const base = [
      "swap",
      "--redis",
      "redis://127.0.0.1:1",
      "--dir",
      "/tmp/x",
      "--workers-jobs",
      "2",
    ];
    const c = await runCli([...base, "--from", "/nonexistent/run"]);
    expect(c.stderr).toMatch(/--from \/nonexistent\/run holds no run checkpoint/);
    const d = await runCli([...base, "--from", "/tmp", "--epochs", "3"]);
    expect(d.stderr).toMatch(/drop the config flags \(--epochs 3\)/);
    const e = await runCli([...base, "--swap-lr-scale", "-1"]);
    expect(e.stderr).toMatch(/--swap-lr-scale: "-1" is not allowed/);
  });
});

describe.skipIf(!haveRedis)("wider swap with wider worker", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis({ password: "swap-test" });
  });
  afterAll(async () => {
    await redis.stop();
  });

  it("3 members over 2 workers: each once, from the phase-1 state; SWAP scored as recomputed here; rerun reuses all", async () => {
    const tmp = tempDir("wider-swap-");
    const work = join(tmp, "work");
    const queue = "swap";
    const args = [
      "swap",
      "--redis",
      redis.url,
      "--queue",
      queue,
      "--dir",
      work,
      "--workers-jobs",
      "3",
      "--swap-batch-size",
      "8",
      "--quiet",
      ...tiny,
    ];
    const workers = [0, 1].map(() =>
      start(["worker", "--redis", redis.url, "--queue", queue, "--dir", work]),
    );
    const first = await runCli(args);
    for (const w of workers) w.child.kill("SIGTERM");
    const exits = await Promise.all(workers.map((w) => w.done));
    expect(first.stderr).not.toContain("wider:");
    expect(first.code).toBe(0);
    expect(first.stdout).not.toContain("swap-test"); // the password is not printed
    expect(exits.map((e) => e.code)).toEqual([0, 0]);

    const id = /# SWAP (swap-[0-9a-f]{16})/.exec(first.stdout)?.[1];
    if (id === undefined) throw new Error(`no SWAP id in ${first.stdout}`);
    const home = join(work, "swap", id);
    for (const f of ["swap.json", "swap.md", "swap.html"])
      expect(existsSync(join(home, f))).toBe(true);
    const report = JSON.parse(readFileSync(join(home, "swap.json"), "utf8"));
    expect(report.rows.map((r: { method: string }) => r.method)).toEqual([
      "SGD",
      "SWA",
      "SWAP (3 members averaged)",
      "SWAP member (mean of members)",
    ]);
    expect(report.rows.every((r: { epochsPerModel: number }) => r.epochsPerModel === 2)).toBe(true);
    expect(readFileSync(join(home, "swap.html"), "utf8")).toContain(
      "<td>SWAP (3 members averaged)</td>",
    );
    // The run's own SGD and SWA rows are its report's.
    const run = JSON.parse(readFileSync(join(home, "phase1", "report.json"), "utf8"));
    expect(report.rows[0].accuracy).toBe(run.results.sgd.accuracy);
    expect(report.rows[1].nll).toBe(run.results.swa.nll);

    // Every member once, by the workers, each with its own data seed.
    const client = orThrow(connect(redis.url));
    const bullKeys = await client.keys("wider-bull:swap:*");
    expect(bullKeys.length).toBeGreaterThan(0);
    const record = JSON.parse((await client.hget(`wider:${queue}:swaps`, id)) ?? "null");
    const results = orThrow(await readResults(client, queue, record.members));
    expect(results.size).toBe(3);
    expect(await client.hlen(`wider:${queue}:results`)).toBe(3);
    expect(orThrow(await readDuplicates(client, queue)).size).toBe(0);
    const config = Config.decode(report.config);
    if (E.isLeft(config)) throw new Error("report config");
    const seeds = new Set<number>();
    for (const [m, fp] of record.members.entries()) {
      const out = SwapMemberOutput.decode(results.get(fp)?.output);
      if (E.isLeft(out)) throw new Error("member output");
      expect(out.right.member).toBe(m);
      expect(out.right.epochs).toBe(1);
      expect(out.right.steps).toBe(Math.floor(128 / 8));
      seeds.add(memberDataSeed(config.right, m));
    }
    expect(seeds.size).toBe(3);
    expect(seeds.has(config.right.dataSeed)).toBe(false);
    expect(SwapTask.is({ config: {}, state: "s", dataSeed: 1, batchSize: 2, lrScale: 1 })).toBe(
      true,
    );

    // Independent recomputation of the SWAP row: float64 mean of the members' saved weights.
    await chooseBackend("wasm"); // the backend the run used: the same arithmetic
    const members = await Promise.all(
      [0, 1, 2].map(async (m) => {
        const w = await loadWeights(join(work, swapMemberDir(id, m)));
        if (E.isLeft(w)) throw new Error(w.left.message);
        return w.right.weights;
      }),
    );
    const start0 = await loadWeights(join(work, "swap", id, "start"));
    if (E.isLeft(start0)) throw new Error(start0.left.message);
    const mean: Record<string, tf.Tensor> = {};
    for (const [name, t0] of Object.entries(members[0] ?? {})) {
      const arrays = members.map((w) => (w[name] as tf.Tensor).dataSync());
      const acc = new Float64Array(arrays[0]?.length ?? 0);
      for (const a of arrays)
        for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + (a[i] as number) / 3;
      mean[name] = tf.tensor(Float32Array.from(acc), t0.shape);
      // Members moved away from the start and from each other.
      const s = (start0.right.weights[name] as tf.Tensor).dataSync();
      const a0 = arrays[0] as Float32Array;
      const a1 = arrays[1] as Float32Array;
      expect(a0.some((v, i) => v !== s[i])).toBe(true);
      expect(a0.some((v, i) => v !== a1[i])).toBe(true);
    }
    const data = await loadAppDataset(config.right);
    const model = buildAppModel(
      config.right.model,
      { imageShape: data.imageShape, classes: data.classes },
      0,
    );
    const assigned = assignToModel(model, mean);
    if (E.isLeft(assigned)) throw new Error(assigned.left.message);
    const idx = Int32Array.from({ length: data.test.count }, (_, i) => i);
    const p = predictProbabilities(model, data, idx);
    const am = tf.argMax(p, 1);
    const predicted = am.dataSync();
    am.dispose();
    let right = 0;
    for (let i = 0; i < idx.length; i++) if (predicted[i] === data.test.labels[i]) right++;
    // MLP: no BatchNorm, so SWAP is the mean as it is; float32 (SWA running mean) vs float64 sums
    // may flip one borderline image at most.
    expect(Math.abs(report.rows[2].accuracy - right / idx.length)).toBeLessThanOrEqual(
      1 / idx.length,
    );
    tf.dispose([
      p,
      ...Object.values(mean),
      ...members.flatMap((w) => Object.values(w)),
      ...Object.values(start0.right.weights),
    ]);
    model.dispose();

    // Again: phase 1 reused, members done already, the same SWAP numbers.
    const again = await runCli(args);
    expect(again.stderr).not.toContain("wider:");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("0 added, 3 done already");
    const report2 = JSON.parse(readFileSync(join(home, "swap.json"), "utf8"));
    expect(report2.rows).toEqual(report.rows);
    client.disconnect();
  }, 600_000);
});
