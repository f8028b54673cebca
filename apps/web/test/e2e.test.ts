// End to end: the built app under `vite preview` in headless Chromium. A short training (5 epochs
// of 2,000 MNIST images, batch 50: 200 SGD steps + 120 SWA + 120 FGE) on wasm, paused and resumed
// on the way; then the table, the plots, and export -> import of the SWA weights.
import { execFileSync } from "node:child_process";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import type { PreviewServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appDir, launch, startPreview } from "./browser.js";

const artifacts = join(appDir, "test-results");
mkdirSync(artifacts, { recursive: true });

const query = new URLSearchParams({
  trainSubset: "2000",
  testSubset: "1000",
  batchSize: "50",
  epochs: "5",
  swaStart: "2",
  backend: "wasm",
  threads: "all",
  geometrySubset: "200",
  segmentPoints: "5",
  planeGrid: "4",
}).toString();

let server: PreviewServer;
let url: string;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  ({ server, url } = await startPreview());
  browser = await launch();
  page = await browser.newPage({ acceptDownloads: true });
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(e.message));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const wider = <K extends keyof Window["wider"]>(key: K) =>
  page.evaluate((k) => window.wider[k], key) as Promise<Window["wider"][K]>;

describe("the web app in headless Chromium", () => {
  it("loads with no console error, the form filled from the URL", async () => {
    await page.goto(`${url}?${query}`);
    await page.waitForFunction(() => window.wider !== undefined);
    expect(await page.inputValue("#s-trainSubset")).toBe("2000");
    expect(await page.inputValue("#s-backend")).toBe("wasm");
    expect(await page.textContent("#problems")).toBe("");
    // The page is cross-origin isolated (vite preview sends COOP/COEP): wasm may use threads.
    expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
    await page.screenshot({ path: join(artifacts, "1-loaded.png"), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it("trains; pause holds the step, resume continues; SWA test error < 20 %", async () => {
    await page.click("#train");
    await page.waitForFunction(() => window.wider.lastStep >= 40, undefined, { timeout: 60_000 });
    await page.click("#pause");
    await page.waitForFunction(() => window.wider.paused, undefined, { timeout: 10_000 });
    const at = await wider("lastStep");
    await page.waitForTimeout(1500);
    // At most the step in flight (and one progress message) lands after the pause.
    const later = await wider("lastStep");
    expect(later - at).toBeLessThanOrEqual(1);
    await page.waitForTimeout(1000);
    expect(await wider("lastStep")).toBe(later);
    expect(await page.textContent("#status")).toBe("paused");
    await page.screenshot({ path: join(artifacts, "2-paused.png"), fullPage: true });
    await page.click("#pause"); // now "Resume"
    await page.waitForFunction((s) => window.wider.lastStep > s, later, { timeout: 20_000 });
    await page.waitForFunction(() => window.wider.done || window.wider.error !== null, undefined, {
      timeout: 150_000,
    });
    expect(await wider("error")).toBeNull();
    expect(await wider("backend")).toBe("wasm");
    // threads=all on a cross-origin isolated page: one wasm thread per core.
    expect(await wider("threads")).toBe(await page.evaluate(() => navigator.hardwareConcurrency));
    const swaError = await wider("swaError");
    expect(swaError).not.toBeNull();
    expect(swaError!).toBeLessThan(0.2);
    // Every method has its row, and the SWA one averaged models.
    const rows = await wider("rows");
    expect(rows.map((r) => r.method.split(" ")[0])).toEqual(["SGD", "SWA", "FGE"]);
    expect(Number(await page.textContent("#swa-n"))).toBeGreaterThanOrEqual(2);
    expect(Number(await page.textContent("#fge-n"))).toBeGreaterThanOrEqual(2);
    expect(await wider("leaked")).toBe(0);
    expect(Number(await page.textContent("#speed"))).toBeGreaterThan(0);
    await page.screenshot({ path: join(artifacts, "3-trained.png"), fullPage: true });
  });

  it("draws the live plots, the segment and the plane (svg with marks)", async () => {
    for (const id of ["lr-chart", "error-chart", "segment-chart", "plane-chart"]) {
      const marks = await page.locator(`#${id} svg path`).count();
      expect(marks, id).toBeGreaterThan(3);
    }
    // Epochs 2 to 5 with 1-epoch cycles: 3 FGE snapshots, the plane goes through all three.
    const plane = await page.locator("#plane-chart svg").textContent();
    expect(plane).toContain("three snapshots of the averaging phase (FGE 1, 2, 3 of 3)");
    expect(consoleErrors).toEqual([]);
  });

  it("exports the SWA weights as a tar of a @wider/weights save; importing it gives the same test error", async () => {
    const swaError = await wider("swaError");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
    const file = join(artifacts, download.suggestedFilename());
    await download.saveAs(file);
    expect(download.suggestedFilename()).toBe("wider-swa-mnist-mlp.tar");
    expect(statSync(file).size).toBeGreaterThan(1000);
    const listed = execFileSync("tar", ["-tf", file], { encoding: "utf8" }).trim().split("\n");
    expect(listed[0]).toBe("manifest.json");
    expect(listed[1]).toMatch(/\.bin$/);

    await page.click("#reset"); // a fresh worker: nothing of the run is left
    expect(await wider("done")).toBe(false);
    await page.setInputFiles("#import-file", file);
    await page.waitForFunction(
      () => window.wider.importedError !== null || window.wider.error !== null,
      undefined,
      { timeout: 60_000 },
    );
    expect(await wider("error")).toBeNull();
    expect(await wider("importedError")).toBe(swaError);
    await page.screenshot({ path: join(artifacts, "4-imported.png"), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});
