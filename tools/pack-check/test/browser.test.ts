// Browsers: every browser-safe package bundles with esbuild for the browser (any `node:` import is a
// build error there), and a tiny SWA + FGE training runs in headless Chromium from such a bundle.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "./packages.js";

/**
 * The packages meant to work in browsers (`data`: its in-memory part, under the `browser`
 * condition); `distributed` (Redis) is Node only.
 */
const browserSafe = [
  "@wider/averaging",
  "@wider/backend",
  "@wider/data",
  "@wider/errors",
  "@wider/ensembling",
  "@wider/geometry",
  "@wider/models",
  "@wider/schedules",
  "@wider/swag",
  "@wider/training",
  "@wider/weights",
];

const toolDir = join(repoRoot, "tools", "pack-check");
const scratch = mkdtempSync(join(tmpdir(), "wider-browser-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const bundle = (entry: { contents: string } | { file: string }, outfile: string) =>
  build({
    ...("file" in entry
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.contents, resolveDir: toolDir, loader: "js" as const } }),
    bundle: true,
    platform: "browser",
    format: "esm",
    outfile,
    logLevel: "silent",
    metafile: true,
  });

describe("browser bundles", () => {
  it.each(browserSafe)("%s bundles for the browser with no node: import", async (name) => {
    const out = join(scratch, `${name.replace("/", "-")}.js`);
    const result = await bundle({ contents: `export * from "${name}";` }, out);
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((f) => f.startsWith("node:"))).toEqual([]);
    // The Node-only modules of the package are not in the browser bundle.
    expect(
      inputs.filter((f) => /\/(node|persistence|stateFiles|saveDirectory)\.js$/.test(f)),
    ).toEqual([]);
  });

  it("the Node-only entry @wider/weights/node does not bundle for the browser", async () => {
    await expect(
      bundle({ contents: `export * from "@wider/weights/node";` }, join(scratch, "node.js")),
    ).rejects.toThrow(/node:/);
  });
});

describe("headless Chromium", () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it("runs a tiny SWA + FGE training; the averages equal a hand mean", async () => {
    const js = join(scratch, "swaFge.js");
    await bundle({ file: join(toolDir, "browser", "swaFge.ts") }, js);
    const page = `<!doctype html><meta charset="utf-8"><script type="module" src="/swaFge.js"></script>`;
    server = createServer((req, res) => {
      if (req.url === "/swaFge.js") {
        res.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(js));
      } else if (req.url === "/") {
        res.writeHead(200, { "content-type": "text/html" }).end(page);
      } else res.writeHead(404).end();
    });
    const port = await new Promise<number>((ok) =>
      server!.listen(0, "127.0.0.1", () => ok((server!.address() as AddressInfo).port)),
    );
    // Debian's Chromium; Playwright never downloads a browser here.
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
      ],
    });
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on("pageerror", (e) => errors.push(e.message));
      await tab.goto(`http://127.0.0.1:${port}/`);
      await tab.waitForFunction(() => window.widerResult !== undefined, undefined, {
        timeout: 60_000,
      });
      const r = await tab.evaluate(() => window.widerResult);
      expect(errors).toEqual([]);
      if (r === undefined || "error" in r) throw new Error(`browser run failed: ${r?.error}`);
      expect(r.backend).toBe("cpu");
      // 3 epochs x 4 batches = 12 steps; SWA from step 4 on averages 8; FGE collects at 3, 7, 11.
      expect(r.swaN).toBe(8);
      expect(r.fgeCount).toBe(3);
      // float32 running mean against a float64 hand mean of the same weights.
      for (const [got, want] of [
        [r.swaMean, r.handSwaMean],
        [r.fgeMean, r.handFgeMean],
      ] as const) {
        expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
        for (const k of Object.keys(want)) {
          const g = got[k]!;
          const w = want[k]!;
          expect(g.length).toBe(w.length);
          for (const [i, v] of w.entries())
            expect(Math.abs(g[i]! - v)).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(v));
        }
      }
      expect(r.leaked).toBe(0);
    } finally {
      await browser.close();
    }
  });
});
