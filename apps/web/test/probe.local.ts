import { launch, startPreview } from "./browser.js";
const q = process.argv[2] ?? "";
const ext = process.argv[3];
const { server, url } = ext ? { server: null, url: ext } : await startPreview();
const b = await launch();
const p = await b.newPage();
p.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") console.log("console:", m.type(), m.text().slice(0, 300)); });
p.on("pageerror", (e) => console.log("pageerror", e.message));
await p.goto(`${url}?${q}`);
await p.waitForFunction(() => window.wider !== undefined, undefined, { timeout: 60000 });
const t0 = Date.now();
await p.click("#train");
for (let i = 0; i < Number(process.env.PROBE_N ?? 12); i++) {
  const ok = await p.waitForFunction(() => window.wider.done || window.wider.error !== null, undefined, { timeout: 20000 }).then(() => true, () => false);
  console.log("t", (Date.now() - t0) / 1000, await p.textContent("#status"), await p.textContent("#backend"), await p.textContent("#steps"));
  if (ok) break;
}
const s = await p.evaluate(() => ({ ...window.wider, speeds: window.wider.speeds.length }));
console.log((Date.now() - t0) / 1000, "s", await p.textContent("#backend"), JSON.stringify(s));
await p.screenshot({ path: "/tmp/probe.png", fullPage: true });
await b.close();
await server?.close();
