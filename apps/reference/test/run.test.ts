import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../src/report.js";
import { chromium, runChromium, runCli, start, tempDir, tinyFlags } from "./helpers.js";

const readReport = (out: string): Report =>
  JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Report;

/** The numbers that must not depend on interruptions: results, curves, geometry. */
const outcome = (r: Report) => ({
  results: r.results,
  history: r.history.map(({ seconds: _s, ...h }) => h),
  geometry: { ...r.geometry, seconds: 0 },
  trajectory:
    r.trajectory === null
      ? null
      : {
          ...r.trajectory,
          seconds: 0,
          runs: {
            cyclical: { ...r.trajectory.runs.cyclical, seconds: 0 },
            constant: { ...r.trajectory.runs.constant, seconds: 0 },
          },
        },
  swaAveraged: r.swaAveraged,
  fgeSnapshots: r.fgeSnapshots,
});

/** Polls the checkpoint's manifest until `pred(state)` holds; returns the state seen. */
const waitForCheckpoint = async (
  out: string,
  pred: (s: { track: string; epochs: number }) => boolean,
  timeoutMs = 100_000,
): Promise<{ track: string; epochs: number }> => {
  const file = join(out, "checkpoint", "manifest.json");
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (existsSync(file)) {
      try {
        const m = JSON.parse(readFileSync(file, "utf8")).metadata.meta as {
          track: string;
          history: unknown[];
        };
        const s = { track: m.track, epochs: m.history.length };
        if (pred(s)) return s;
      } catch {
        // being replaced right now: read again
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("no checkpoint in time");
};

describe("wider run: end to end, resumable", () => {
  const base = tempDir("wider-e2e-");
  const straight = join(base, "straight");
  let reference: Report;

  beforeAll(async () => {
    const r = await runCli(tinyFlags(straight));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    reference = readReport(straight);
  });

  it("writes a complete report.json", () => {
    const r = reference;
    expect(r.backend.name).toBe("wasm");
    expect(r.config.epochs).toBe(4);
    expect(r.dataset.trainUsed).toBe(512);
    // sgd: epochs 0-3 (the pretrained point after epoch 1); swa and fge: epochs 2-3 from it
    expect(r.history.map((h) => `${h.phase}${h.epoch}`)).toEqual([
      "sgd0",
      "sgd1",
      "sgd2",
      "sgd3",
      "swa2",
      "swa3",
      "fge2",
      "fge3",
    ]);
    expect(r.swaAveraged).toBe(2);
    expect(r.fgeSnapshots).toBe(2);
    for (const m of [r.results.sgd, r.results.swa, r.results.fge]) {
      expect(m.count).toBe(500);
      expect(m.accuracy).toBeGreaterThan(0.6); // 10 classes: chance is 0.1
      expect(Number.isFinite(m.nll) && m.ece >= 0 && m.ece <= 1).toBe(true);
    }
    expect(r.geometry.rays.sgd).toHaveLength(1);
    expect(r.geometry.rays.sgd[0]?.results).toHaveLength(3);
    expect(r.geometry.rays.sgd[0]?.complete).toBe(true);
    expect(r.geometry.rays.widthSgd?.count).toBe(2);
    expect(r.geometry.segment?.results).toHaveLength(3);
    expect(r.geometry.plane?.results).toHaveLength(9);
    expect(r.geometry.points).toBe(2 * 3 + 3 + 9);
    expect(r.schedules.swa.length).toBeGreaterThan(0);
    // section 3.5: the averaged snapshots predict like their ensemble, closer than members agree
    const s35 = r.results.fgeVsAverage;
    expect(s35?.members).toBe(2);
    expect(s35?.ensembleSwaTv).toBeLessThan(s35?.memberPairwiseTv ?? 0);
    expect(existsSync(join(straight, "report.html"))).toBe(true);
    // section 3.1: both rates from the pretrained point, a proposal per cycle end (epochs 3, 4)
    const t = r.trajectory;
    if (t === null) throw new Error("no trajectory section");
    for (const run of [t.runs.cyclical, t.runs.constant]) {
      expect(run.epochs).toEqual([3, 4]);
      expect(run.proposalErrors).toHaveLength(2);
      expect(run.swaErrors).toHaveLength(2);
      expect(run.swaErrors[0]).toBe(run.proposalErrors[0]);
      expect(run.spread).toBeGreaterThan(0);
    }
    expect(t.runs.constant.lrHigh).toBe(0.01);
    // The cyclical run repeats the SWA track (same start, rate, batches): the same average.
    expect(t.runs.cyclical.swaErrors[1]).toBeCloseTo(1 - r.results.swa.accuracy, 12);
    expect(t.plane?.results.results).toHaveLength(9);
    expect(t.plane?.anchors).toEqual(["pretrained", "cyclical 1", "cyclical 2"]);
    const pts = t.plane?.points ?? [];
    expect(pts.map((p) => p.label)).toEqual([
      "pretrained",
      "cyclical 1",
      "cyclical 2",
      "SWA (cyclical)",
      "constant 1",
      "constant 2",
      "SWA (constant)",
    ]);
    // The anchors (and the cyclical average, their midpoint's blend) lie in the plane.
    for (const p of pts.slice(0, 4)) expect(p.residual).toBeLessThan(1e-2);
    expect(pts[0]).toMatchObject({ x: 0, y: 0 });
    expect(t.findings.averageBetter.holds).not.toBeUndefined();
    expect(r.seconds.trajectory).toBeGreaterThan(0);
  });

  it("writes a self-contained report.html: no script, no remote resource", () => {
    const html = readFileSync(join(straight, "report.html"), "utf8");
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?https?:/i);
    for (const id of [
      "comparison",
      "curves",
      "schedules",
      "rays",
      "raysTest",
      "segment",
      "plane",
      "planeTest",
      "trajectoryCurves",
      "trajectoryPlane",
      "trajectoryPlaneTest",
    ])
      expect(html).toContain(`id="fig-${id}"`);
    expect(html).toContain('<table id="trajectoryPoints">');
    expect((html.match(/ here[ .(]/g) ?? []).length).toBeGreaterThanOrEqual(3);
  });

  it("states which of the paper's effects this run shows, from its own numbers, and its scale", () => {
    const html = readFileSync(join(straight, "report.html"), "utf8");
    const r = readReport(straight);
    const section = html.slice(html.indexOf('<table id="findings">'));
    const rowOf = (claim: string): string => {
      const at = section.indexOf(claim);
      expect(at, claim).toBeGreaterThan(0);
      return section.slice(at, section.indexOf("</tr>", at));
    };
    const swaRow = rowOf("SWA generalises better than SGD");
    const dAcc = 100 * (r.results.swa.accuracy - r.results.sgd.accuracy);
    expect(swaRow).toContain(`${dAcc >= 0 ? "+" : ""}${dAcc.toFixed(2)} points`);
    expect(swaRow).toContain(dAcc > 0 ? "<td>visible here</td>" : "<td>not visible here</td>");
    const widthRow = rowOf("SWA finds a wider solution");
    const ws = r.geometry.rays.widthSwa?.median ?? null;
    const wg = r.geometry.rays.widthSgd?.median ?? null;
    if (ws !== null && wg !== null)
      expect(widthRow).toContain(ws > wg ? "<td>visible here</td>" : "<td>not visible here</td>");
    else expect(widthRow).toContain("<td>not measured</td>");
    expect(html).toContain(
      `Scale: mlp (${r.model.parameters.toLocaleString("en")} parameters) on 512 of`,
    );
  });

  it.skipIf(!existsSync(chromium))(
    "report.html renders in headless Chromium with its plots and no console errors",
    () => {
      const url = pathToFileURL(join(straight, "report.html")).href;
      const dom = runChromium(url, ["--dump-dom"]);
      expect(dom.status).toBe(0);
      expect(dom.stdout).toContain("Wider: SGD vs SWA vs FGE");
      expect(dom.stdout).toMatch(/<table id="comparison">/);
      // one <svg> per plot: comparison, curves, schedules, 2 rays, segment, 2 planes, 3 trajectory
      expect((dom.stdout.match(/<svg[\s>]/g) ?? []).length).toBeGreaterThanOrEqual(11);
      for (const id of ["trajectoryCurves", "trajectoryPlane", "trajectoryPlaneTest"])
        expect(dom.stdout).toMatch(new RegExp(`<figure id="fig-${id}"><svg[\\s>]`));
      expect(dom.stdout).toMatch(/<ul id="trajectoryFindings"><li>/);
      expect((dom.stdout.match(/<path|<rect|<line/g) ?? []).length).toBeGreaterThan(100);
      // Chromium logs every console message and uncaught error of the page as CONSOLE lines.
      expect(dom.stderr).not.toMatch(/CONSOLE/);
      const png = join(base, "report.png");
      const shot = runChromium(url, [`--screenshot=${png}`]);
      expect(shot.status).toBe(0);
      expect(shot.stderr).not.toMatch(/CONSOLE/);
      expect(statSync(png).size).toBeGreaterThan(20_000);
    },
  );

  it("refuses to overwrite the finished run, and --force replaces it", async () => {
    const r = await runCli(tinyFlags(straight));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--force");
    const f = await runCli([...tinyFlags(straight), "--force", "--quiet"]);
    expect(f.code).toBe(0);
    expect(outcome(readReport(straight))).toEqual(outcome(reference));
  });

  it("resumes after SIGKILL mid-run to the same result", async () => {
    const out = join(base, "killed");
    const { child, done } = start(tinyFlags(out));
    await waitForCheckpoint(out, (s) => (s.track === "sgd" && s.epochs >= 2) || s.track === "swa");
    child.kill("SIGKILL");
    const killed = await done;
    expect(killed.signal).toBe("SIGKILL");
    expect(existsSync(join(out, "report.json"))).toBe(false);
    const resumed = await runCli(["--out", out, "--resume"]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain("resuming from the checkpoint");
    expect(outcome(readReport(out))).toEqual(outcome(reference));
  });

  it("stops cleanly on SIGINT and resumes to the same result", async () => {
    const out = join(base, "interrupted");
    const { child, done } = start(tinyFlags(out));
    await waitForCheckpoint(out, (s) => s.track === "swa" || s.track === "fge");
    child.kill("SIGINT");
    const stopped = await done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/interrupted in \w+ at epoch \d+ step \d+/);
    expect(stopped.stderr).toContain("--resume");
    expect(existsSync(join(out, "report.json"))).toBe(false);
    const resumed = await runCli(["--out", out, "--resume"]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain("resuming from the checkpoint");
    expect(outcome(readReport(out))).toEqual(outcome(reference));
  });

  it("resumes a run killed in the geometry phase to the same result", async () => {
    const out = join(base, "killed-geometry");
    const { child, done } = start(tinyFlags(out));
    const first = join(out, "checkpoint", "geometry", "ray-sgd-0.json");
    const t0 = Date.now();
    while (!existsSync(first) && Date.now() - t0 < 100_000)
      await new Promise((r) => setTimeout(r, 5));
    child.kill("SIGKILL");
    expect((await done).signal).toBe("SIGKILL");
    expect(existsSync(join(out, "report.json"))).toBe(false);
    const resumed = await runCli(["--out", out, "--resume"]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain("training finished");
    expect(outcome(readReport(out))).toEqual(outcome(reference));
  });

  it("refuses to resume with a changed configuration", async () => {
    const cfg = join(base, "other.json");
    writeFileSync(cfg, JSON.stringify({ lr: 0.2 }));
    const r = await runCli(["--out", straight, "--resume", "--config", cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("different configuration (lr 0.05, now 0.2)");
  });
});
