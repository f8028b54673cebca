// Helpers of the end-to-end tests: `vite preview` of the built dist/ on a free port, and Debian's
// Chromium through playwright-core (never a downloaded browser).
import { existsSync } from "node:fs";
import { createServer as netServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { type PreviewServer, preview } from "vite";

/** The app's folder. */
export const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A port nobody listens on right now. */
export const freePort = (): Promise<number> =>
  new Promise((ok, ko) => {
    const s = netServer();
    s.once("error", ko);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      s.close(() => ok(port));
    });
  });

/** `vite preview` of dist/ (with the COOP/COEP headers of vite.config.ts) on a free port. */
export const startPreview = async (): Promise<{ server: PreviewServer; url: string }> => {
  if (!existsSync(join(appDir, "dist", "index.html")))
    throw new Error(
      "apps/web/dist is missing: run `pnpm --filter @wider/web build` first (pnpm test does)",
    );
  const port = await freePort();
  const server = await preview({
    root: appDir,
    configFile: join(appDir, "vite.config.ts"),
    logLevel: "warn",
    preview: { port, strictPort: true, host: "127.0.0.1", open: false },
  });
  return { server, url: `http://127.0.0.1:${port}/` };
};

/** Debian's Chromium, headless, with the flags the repository's browser tests use. */
export const launch = (): Promise<Browser> =>
  chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
    ],
  });
