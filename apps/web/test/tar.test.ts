// The weight download's tar against GNU tar (the system's `tar`), both ways.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readTar, writeTar } from "../src/tar.js";

const dir = mkdtempSync(join(tmpdir(), "wider-web-tar-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 256);

describe("tar", () => {
  it("GNU tar extracts what writeTar packs, byte for byte", () => {
    const files = [
      { name: "manifest.json", data: new TextEncoder().encode('{"a":1}\n') },
      { name: "weights-abc.bin", data: bytes(1300, 7) },
      { name: "empty", data: new Uint8Array(0) },
      { name: "exact", data: bytes(512, 1) },
    ];
    const tarFile = join(dir, "a.tar");
    writeFileSync(tarFile, writeTar(files, 1_700_000_000));
    const out = join(dir, "a");
    mkdirSync(out);
    execFileSync("tar", ["-xf", tarFile, "-C", out]);
    for (const f of files) expect(new Uint8Array(readFileSync(join(out, f.name)))).toEqual(f.data);
    expect(execFileSync("tar", ["-tf", tarFile], { encoding: "utf8" }).trim().split("\n")).toEqual(
      files.map((f) => f.name),
    );
  });

  it("readTar reads what GNU tar packs", () => {
    const src = join(dir, "src");
    mkdirSync(src);
    writeFileSync(join(src, "manifest.json"), "{}\n");
    writeFileSync(join(src, "w.bin"), bytes(2000, 3));
    const tarFile = join(dir, "b.tar");
    execFileSync("tar", ["-cf", tarFile, "-C", src, "manifest.json", "w.bin"]);
    const got = readTar(new Uint8Array(readFileSync(tarFile)));
    expect(got.map((f) => f.name)).toEqual(["manifest.json", "w.bin"]);
    expect(got[1]!.data).toEqual(bytes(2000, 3));
  });

  it("refuses a file that is not a tar, and bad names", () => {
    expect(() => readTar(bytes(1024, 5))).toThrow(/not a tar archive .*choose the \.tar file/);
    expect(() => writeTar([{ name: "a/b", data: new Uint8Array(1) }])).toThrow(
      /plain ASCII file name/,
    );
    const good = writeTar([{ name: "x", data: bytes(600, 0) }]);
    expect(() => readTar(good.subarray(0, 700))).toThrow(/truncated/);
  });
});
