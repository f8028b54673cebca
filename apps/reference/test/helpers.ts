import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The built CLI. */
export const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");

/** A fresh temporary directory. */
export const tempDir = (prefix = "wider-test-"): string => mkdtempSync(join(tmpdir(), prefix));

/** A tiny run: MLP on 512 MNIST images, 4 epochs of which 2 pretraining, cheap geometry and trajectory plane. */
export const tinyFlags = (out: string): string[] => [
  "--out",
  out,
  "--train-subset",
  "512",
  "--test-subset",
  "500",
  "--batch-size",
  "32",
  "--epochs",
  "4",
  "--swa-start",
  "2",
  "--rays",
  "1",
  "--ray-points",
  "3",
  "--segment-points",
  "3",
  "--plane-grid",
  "3",
  "--geometry-subset",
  "200",
  "--trajectory-grid",
  "3",
  "--backend",
  "wasm",
];

/** Result of a finished CLI process. */
export interface Done {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Spawns the CLI; `done` resolves when it exits. */
export const start = (args: readonly string[]): { child: ChildProcess; done: Promise<Done> } => {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<Done>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
};

/** Runs the CLI to its end. */
export const runCli = (args: readonly string[]): Promise<Done> => start(args).done;

/** Debian's Chromium, used to check the HTML report. */
export const chromium = "/usr/bin/chromium";

/** Runs headless Chromium on a local file with no network, a fresh profile and logging on. */
export const runChromium = (
  url: string,
  mode: ["--dump-dom"] | [`--screenshot=${string}`],
): { stdout: string; stderr: string; status: number | null } => {
  const r = spawnSync(
    chromium,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--user-data-dir=${tempDir("wider-chromium-")}`,
      "--enable-logging=stderr",
      "--v=0",
      "--window-size=1100,4200",
      ...mode,
      url,
    ],
    { encoding: "utf8", timeout: 90_000 },
  );
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
};
