/**
 * `@wider/distributed/testing`: a real `redis-server` for tests (Debian's `/usr/bin/redis-server`,
 * or any `redis-server` at that path): a free loopback port, a temporary directory, optional
 * password and append-only persistence; stopped by the test. Node only; not for production.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

export const redisServer = "/usr/bin/redis-server";
export const haveRedis = existsSync(redisServer);
if (!haveRedis)
  process.stderr.write(
    `${redisServer} is missing: the Redis tests are skipped; install it (apt-get install redis-server, or bash scripts/setup.sh as root)\n`,
  );

/** A free TCP port on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });

export interface RedisOptionsForTest {
  readonly password?: string;
  readonly appendonly?: boolean;
}

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Stops the server (SIGTERM: it saves and exits) and waits for it. */
  readonly stop: () => Promise<void>;
  /** Starts it again on the same port and directory. */
  readonly restart: () => Promise<void>;
}

const waitUp = async (port: number, password: string | undefined): Promise<void> => {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const c = new Redis({
      port,
      host: "127.0.0.1",
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      ...(password === undefined ? {} : { password }),
    });
    c.on("error", () => {});
    try {
      await c.connect();
      await c.ping();
      c.disconnect();
      return;
    } catch {
      c.disconnect();
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not come up`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
};

/** Starts a redis-server; call `stop()` in `afterAll`. */
export const startRedis = async (options: RedisOptionsForTest = {}): Promise<TestRedis> => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "wider-redis-"));
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    options.appendonly === true ? "yes" : "no",
    "--appendfsync",
    "always",
    ...(options.password === undefined ? [] : ["--requirepass", options.password]),
  ];
  let child: ChildProcess | null = null;
  const launch = async () => {
    child = spawn(redisServer, args, { stdio: "ignore" });
    await waitUp(port, options.password);
  };
  await launch();
  const auth = options.password === undefined ? "" : `:${encodeURIComponent(options.password)}@`;
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    dir,
    stop: async () => {
      const c = child as ChildProcess | null;
      if (c === null || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGTERM");
      await exited;
    },
    restart: launch,
  };
};
