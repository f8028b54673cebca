/** Worker processes for the integration tests (`test/pointWorker.ts` under tsx). */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly output: () => string;
  /** SIGTERM (graceful close) and wait. */
  readonly stop: () => Promise<void>;
}

/** Spawns a worker process on `url`/`queue` with `dir` as its directory. */
export const spawnWorker = (
  url: string,
  queue: string,
  dir: string,
  backend = "cpu",
): WorkerProcess => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(here, "pointWorker.ts"), url, queue, dir, backend],
    { stdio: ["ignore", "pipe", "pipe"], cwd: join(here, "..") },
  );
  let out = "";
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes("ready ")) resolve();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.once("exit", (code) => reject(new Error(`worker exited (${code}) before ready: ${out}`)));
  });
  return {
    child,
    ready,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
};

/** Polls `f` until it returns a non-undefined value or `ms` pass. */
export const waitFor = async <A>(
  f: () => Promise<A | undefined>,
  ms: number,
  what: string,
): Promise<A> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
