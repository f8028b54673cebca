import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cleanStale,
  disposeWeights,
  flatten,
  loadWeights,
  MANIFEST_FILE,
  saveWeights,
  type Weights,
} from "../src/index.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "wider-savedir-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const leftMessage = (r: E.Either<{ message: string }, unknown>): string => {
  expect(E.isLeft(r)).toBe(true);
  return E.isLeft(r) ? r.left.message : "";
};

/** Mounts a small tmpfs at a fresh directory, or says why it cannot (not root, no mount(8), ...). */
const mountTmpfs = (size: string): { dir: string } | { skip: string } => {
  const dir = join(tmpdir(), `wider-tmpfs-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    execFileSync("mkdir", ["-p", dir]);
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "pipe" });
    return { dir };
  } catch (e) {
    return {
      skip: `cannot mount a tmpfs here (${e instanceof Error ? e.message.split("\n")[0] : e})`,
    };
  }
};
const unmount = (dir: string) => {
  try {
    execFileSync("umount", [dir], { stdio: "pipe" });
  } finally {
    execFileSync("rmdir", [dir]);
  }
};

const probe = mountTmpfs("64k");
const canMount = "dir" in probe;
if ("dir" in probe) unmount(probe.dir);
else console.warn(`skipping the disk-full and read-only tests: ${probe.skip}`);

const weights = (n: number): Weights => ({ big: tf.range(0, n, 1, "float32") });

describe("unwritable output gives a clear Left naming the path and the cause", () => {
  it.skipIf(!existsSync("/proc/self"))(
    "/proc/x settles (Node's recursive mkdir loops there) with a Left",
    async () => {
      const w = weights(4);
      const r = await Promise.race([
        saveWeights("/proc/wider-test/x", w),
        new Promise<"hung">((res) => setTimeout(() => res("hung"), 5000)),
      ]);
      expect(r).not.toBe("hung");
      if (r !== "hung")
        expect(leftMessage(r)).toMatch(
          /cannot create directory \/proc\/wider-test: \/proc does not accept new entries/,
        );
      disposeWeights(w);
    },
  );

  it.skipIf(!existsSync("/sys/kernel"))("/sys/x names the path and the cause", async () => {
    const w = weights(4);
    const msg = leftMessage(await saveWeights("/sys/wider-test", w));
    expect(msg).toMatch(/cannot create directory \/sys\/wider-test: /);
    expect(msg).toMatch(/\((EPERM|EROFS|EACCES)\)/);
    disposeWeights(w);
  });

  it("a path through a regular file names the file", async () => {
    const file = join(root, "plain-file");
    await writeFile(file, "x");
    const w = weights(4);
    expect(leftMessage(await saveWeights(join(file, "sub"), w))).toMatch(
      /plain-file exists and is not a directory; choose another path/,
    );
    disposeWeights(w);
  });

  it.skipIf(!canMount)(
    "a read-only file system is reported as read-only (EROFS), not ENOENT, and the old save survives",
    async () => {
      const m = mountTmpfs("256k");
      if (!("dir" in m)) throw new Error(m.skip);
      const w = weights(8);
      const other = weights(6);
      try {
        orThrow(await saveWeights(join(m.dir, "run"), w));
        execFileSync("mount", ["-o", "remount,ro", m.dir], { stdio: "pipe" });
        for (const target of [join(m.dir, "run"), join(m.dir, "new", "deeper")]) {
          const msg = leftMessage(await saveWeights(target, other));
          expect(msg).toMatch(/read-only file system \(EROFS\)/);
          expect(msg).not.toMatch(/ENOENT/);
          expect(msg).toContain(m.dir);
        }
        const back = orThrow(await loadWeights(join(m.dir, "run")));
        expect(Array.from(flatten(back.weights))).toEqual(Array.from(flatten(w)));
        disposeWeights(back.weights);
      } finally {
        disposeWeights(w);
        disposeWeights(other);
        unmount(m.dir);
      }
    },
  );

  it.skipIf(!canMount)(
    "a full disk names ENOSPC, leaves no temp file or blob behind, and the old save survives",
    async () => {
      const m = mountTmpfs("64k");
      if (!("dir" in m)) throw new Error(m.skip);
      const small = weights(16);
      const big = weights(40_000); // 160 kB > 64 kB
      try {
        const dir = join(m.dir, "run");
        orThrow(await saveWeights(dir, small, { epoch: 1 }));
        const before = (await readdir(dir)).sort();
        const msg = leftMessage(await saveWeights(dir, big, { epoch: 2 }));
        expect(msg).toMatch(/no space left on device \(ENOSPC\); free some space/);
        expect(msg).toContain(dir);
        expect((await readdir(dir)).sort()).toEqual(before);
        const back = orThrow(await loadWeights(dir));
        expect(back.metadata).toEqual({ epoch: 1 });
        disposeWeights(back.weights);
      } finally {
        disposeWeights(small);
        disposeWeights(big);
        unmount(m.dir);
      }
    },
  );
});

describe("cleanStale: files of crashed saves are removed on the next save", () => {
  /** A pid that was alive and is not any more (a finished child process). */
  const deadPid = (): number => {
    const r = spawnSync(process.execPath, ["-e", ""]);
    expect(r.pid).toBeGreaterThan(0);
    return r.pid as number;
  };

  it("removes dead writers' temp files and unreferenced blobs, keeps live ones and other files", async () => {
    const dir = join(root, "crashed");
    await mkdir(dir, { recursive: true });
    const w = weights(4);
    orThrow(await saveWeights(dir, w));
    const dead = deadPid();
    const live = process.pid;
    const stale = [
      `.weights-aaaaaaaaaaaa.bin.tmp-${dead}`,
      `.manifest.json.bbbbbbbbbbbb.tmp-${dead}`,
      "weights-bbbbbbbbbbbb.bin", // its writer (dead) renamed the blob, then crashed
      "weights-cccccccccccc.bin", // an orphan from a save long gone
    ];
    const kept = [
      `.weights-dddddddddddd.bin.tmp-${live}`,
      `.manifest.json.eeeeeeeeeeee.tmp-${live}`,
      "weights-eeeeeeeeeeee.bin", // a live writer is about to name it
      "notes.txt",
      "weights-final.bin", // not a name saves use
      ".weights-ffffffffffff.bin.tmp", // no pid: not ours to judge
    ];
    for (const f of [...stale, ...kept]) await writeFile(join(dir, f), "x");
    const removed = orThrow(await cleanStale(dir));
    expect([...removed].sort()).toEqual([...stale].sort());
    const left = await readdir(dir);
    for (const f of kept) expect(left).toContain(f);
    // The current save is untouched and loads.
    const back = orThrow(await loadWeights(dir));
    disposeWeights(back.weights);
    // saveWeights runs the same cleaning: a new dead writer's file goes on the next save.
    await writeFile(join(dir, `.weights-999999999999.bin.tmp-${dead}`), "x");
    orThrow(await saveWeights(dir, w));
    expect(await readdir(dir)).not.toContain(`.weights-999999999999.bin.tmp-${dead}`);
    disposeWeights(w);
  });

  it("keeps every blob when the manifest exists but cannot be read", async () => {
    const dir = join(root, "unreadable");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, MANIFEST_FILE), "{ not json");
    await writeFile(join(dir, "weights-aaaaaaaaaaaa.bin"), "x");
    expect(orThrow(await cleanStale(dir))).toEqual([]);
  });

  it("a missing directory is a Left naming it", async () => {
    expect(leftMessage(await cleanStale(join(root, "nope")))).toMatch(
      /cleanStale: cannot list .*nope: no such file or directory \(ENOENT\)/,
    );
  });
});
