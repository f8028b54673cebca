/**
 * TLS to Redis (`rediss://`) end to end: Debian's redis-server is built with TLS, so the test
 * makes a self-signed certificate with `openssl` (for IP 127.0.0.1), starts `redis-server
 * --port 0 --tls-port P` with a password, and runs a one-job `wider sweep` + `wider worker` over
 * `rediss://`, the CA trusted the Node way (`NODE_EXTRA_CA_CERTS`). Without the CA the client
 * refuses the certificate; a plain `redis://` URL to the TLS port does not get in.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readResults, readSweep, redisOptions } from "@wider/distributed";
import { freePort, haveRedis, redisServer } from "@wider/distributed/testing";
import { orThrow } from "@wider/errors";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, tempDir } from "./helpers.js";

const openssl = "/usr/bin/openssl";
/** Whether this redis-server was built with TLS (`--tls-port` is then a known option). */
const tlsProbe = (): boolean => {
  // Without certificate files a TLS build stops with "Failed to configure TLS"; a build without
  // TLS stops at the unknown directive.
  const r = spawnSync(redisServer, ["--port", "0", "--tls-port", "1"], {
    encoding: "utf8",
    timeout: 10_000,
  });
  return !/Bad directive/i.test(`${r.stdout}${r.stderr}`);
};
const haveTls = haveRedis && existsSync(openssl) && tlsProbe();
if (!haveTls)
  process.stderr.write(
    "redis-server without TLS support or no openssl: the TLS test is skipped (Debian's redis-server has TLS)\n",
  );

interface Done {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const run = (
  args: readonly string[],
  env: Record<string, string>,
): { child: ChildProcess; done: Promise<Done> } => {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return {
    child,
    done: new Promise((r) => child.on("exit", (code) => r({ code, stdout, stderr }))),
  };
};

describe.skipIf(!haveTls)("rediss:// against redis-server --tls-port", () => {
  const tmp = tempDir("wider-tls-");
  const cert = join(tmp, "cert.pem");
  const key = join(tmp, "key.pem");
  let server: ChildProcess;
  let port = 0;
  beforeAll(async () => {
    const made = spawnSync(
      openssl,
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=wider-test",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { encoding: "utf8" },
    );
    expect(made.status).toBe(0);
    port = await freePort();
    server = spawn(
      redisServer,
      [
        "--port",
        "0",
        "--tls-port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--tls-cert-file",
        cert,
        "--tls-key-file",
        key,
        "--tls-auth-clients",
        "no",
        "--requirepass",
        "tls-pw",
        "--save",
        "",
        "--dir",
        tmp,
      ],
      { stdio: "ignore" },
    );
    // Up when the TLS port accepts connections.
    const { createConnection } = await import("node:net");
    const deadline = Date.now() + 15_000;
    for (;;) {
      const ok = await new Promise<boolean>((r) => {
        const s = createConnection(port, "127.0.0.1");
        s.once("connect", () => {
          s.destroy();
          r(true);
        });
        s.once("error", () => r(false));
      });
      if (ok) break;
      if (Date.now() > deadline) throw new Error("redis-server --tls-port did not come up");
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    if (server.exitCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    }
  });

  it("a sweep job goes through rediss:// with the CA trusted; refused without it, or over plain redis://", async () => {
    const url = `rediss://:tls-pw@127.0.0.1:${port}`;
    const trusted = { NODE_EXTRA_CA_CERTS: cert };
    const queue = "tls";
    const spec = join(tmp, "sweep.json");
    writeFileSync(
      spec,
      JSON.stringify({
        name: "tls",
        base: {
          trainSubset: 128,
          testSubset: 100,
          batchSize: 32,
          epochs: 2,
          swaStart: 1,
          rays: 0,
          segmentPoints: 0,
          planeGrid: 0,
          geometrySubset: 100,
          backend: "wasm",
        },
        seeds: [0],
      }),
    );
    // Without the CA: the certificate is refused, one line, exit 1.
    const untrusted = await run(["sweep", "--spec", spec, "--redis", url, "--queue", queue], {})
      .done;
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/^wider: Redis: .*(self-signed|self signed)/);
    // Plain redis:// to the TLS port: no Redis conversation happens.
    const plain = await run(
      ["sweep", "--spec", spec, "--redis", `redis://:tls-pw@127.0.0.1:${port}`, "--queue", queue],
      {},
    ).done;
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^wider: Redis: /);

    const submitted = await run(
      ["sweep", "--spec", spec, "--redis", url, "--queue", queue],
      trusted,
    ).done;
    expect(submitted.stderr).toBe(""); // no warning (no SNI for the IP host)
    expect(submitted.code).toBe(0);
    expect(submitted.stdout).toMatch(/1 jobs .*1 added/);
    const worker = run(
      ["worker", "--redis", url, "--queue", queue, "--dir", join(tmp, "work")],
      trusted,
    );
    const status = await run(
      ["sweep", "status", "--redis", url, "--queue", queue, "--wait"],
      trusted,
    ).done;
    worker.child.kill("SIGTERM");
    expect((await worker.done).code).toBe(0);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("1/1 done");

    // Read back in this process, over TLS with the CA given to ioredis directly.
    const client = new Redis({ ...orThrow(redisOptions(url)), tls: { ca: readFileSync(cert) } });
    const record = orThrow(await readSweep(client, queue, "tls"));
    expect(
      orThrow(await readResults(client, queue, [record.jobs[0]?.fingerprint ?? ""])).size,
    ).toBe(1);
    client.disconnect();
  });
});
