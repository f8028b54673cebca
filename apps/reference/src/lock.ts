/**
 * The exclusive lock a run holds on its output directory for its whole life (`proper-lockfile`:
 * an atomic `mkdir` of `<out>/.wider-lock`, its mtime refreshed while the run lives). The holder's
 * pid, host and start time are written into the lock as `owner.json`, so a refused run names the
 * holder. A lock whose holder is dead is taken over at once when the holder ran on this host (its
 * pid no longer exists), and by `proper-lockfile`'s staleness rule (no refresh for
 * {@link staleMs}) otherwise, e.g. for a holder on another host of a shared file system.
 *
 * @module
 */
import * as nodeFs from "node:fs";
import { readFile, rename, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import lockfile from "proper-lockfile";
import { AppError } from "./AppError.js";
import { errnoOf, fsError } from "./outputDir.js";

/** The lock's name inside the output directory (a directory, as `proper-lockfile` makes it). */
export const lockName = ".wider-lock";
/** The holder's record inside the lock directory. */
const ownerName = "owner.json";
/** A lock not refreshed for this long, by a holder whose pid cannot be checked, is stale. */
export const staleMs = 30_000;

/** Who holds a lock: written by the holder right after taking it. */
const Owner = t.type({ pid: t.number, host: t.string, since: t.string });
/** The holder of a lock. */
export type Owner = t.TypeOf<typeof Owner>;

/** A held lock. */
export interface OutLock {
  /** The lock directory. */
  readonly path: string;
  /** Releases the lock (idempotent). */
  release(): Promise<void>;
}

/**
 * The file system calls `proper-lockfile` makes, with two changes for the holder's record inside
 * the lock: `mkdir` of the lock writes `owner.json` into it before reporting success (before
 * `proper-lockfile` takes the mtime it keeps refreshing, which a later write inside the directory
 * would change), and `rmdir` removes the lock with its contents.
 */
const lockFs = (lockDir: string, owner: Owner) => ({
  ...nodeFs,
  mkdir: (path: string, cb: (err: NodeJS.ErrnoException | null) => void) => {
    nodeFs.mkdir(path, (err) => {
      if (err !== null || path !== lockDir) return cb(err);
      const tmp = join(lockDir, `${ownerName}.tmp`);
      try {
        nodeFs.writeFileSync(tmp, `${JSON.stringify(owner)}\n`);
        nodeFs.renameSync(tmp, join(lockDir, ownerName));
      } catch (e) {
        nodeFs.rmSync(lockDir, { recursive: true, force: true });
        return cb(e as NodeJS.ErrnoException);
      }
      cb(null);
    });
  },
  rmdir: (path: string, cb: (err: NodeJS.ErrnoException | null) => void) => {
    nodeFs.rm(path, { recursive: true }, cb);
  },
  rmdirSync: (path: string) => {
    nodeFs.rmSync(path, { recursive: true });
  },
});

/** The lock's holder as recorded, or null when none is recorded (yet) or the record is unreadable. */
export const readOwner = async (lockDir: string): Promise<Owner | null> => {
  try {
    const decoded = Owner.decode(JSON.parse(await readFile(join(lockDir, ownerName), "utf8")));
    return E.isRight(decoded) ? decoded.right : null;
  } catch {
    return null;
  }
};

/** Whether process `pid` exists on this host (EPERM: it exists, owned by someone else). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoOf(e) === "EPERM";
  }
};

/**
 * Whether the recorded holder is a process of this host that no longer exists (a holder with our
 * own pid is a dead run whose pid was reused, e.g. pid 1 of a restarted container).
 */
const deadHere = (owner: Owner | null): owner is Owner =>
  owner !== null && owner.host === hostname() && (owner.pid === process.pid || !alive(owner.pid));

const heldError = (out: string, owner: Owner | null): AppError =>
  new AppError(
    owner === null
      ? `--out: ${out} is locked by another wider run that has not recorded its pid yet (${join(out, lockName)}); wait for it to finish or stop it, then try again`
      : `--out: ${out} is in use by another wider run (pid ${owner.pid} on ${owner.host}, since ${owner.since}); wait for it to finish or stop it (kill ${owner.pid}), then try again`,
    1,
  );

/**
 * Moves a dead holder's lock out of the way. The lock is renamed to a name of our own first, so
 * that of two runs taking over at once only one removes it; if what was renamed is not the lock
 * that was seen dead (a new holder took it in between), it is put back.
 */
const takeOver = async (lockDir: string, seen: Owner): Promise<void> => {
  const aside = `${lockDir}.stale-${process.pid}`;
  try {
    await rename(lockDir, aside);
  } catch {
    return; // gone already, or taken over by another run: the next attempt sees which
  }
  const moved = await readOwner(aside);
  if (moved !== null && moved.pid === seen.pid && moved.since === seen.since) {
    await rm(aside, { recursive: true, force: true });
    return;
  }
  await rename(aside, lockDir).catch(() => rm(aside, { recursive: true, force: true }));
};

/**
 * Takes the exclusive lock on the existing directory `out`, or refuses with one line naming the
 * holder's pid. `onCompromised` is called if the lock is lost while held (removed or taken over
 * after the process stalled past {@link staleMs}).
 */
export const lockOutDir = async (
  out: string,
  onCompromised: (reason: string) => void,
): Promise<OutLock> => {
  const lockDir = join(out, lockName);
  const owner: Owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  let release: (() => Promise<void>) | undefined;
  for (let attempt = 0; release === undefined; attempt++) {
    const before = await readOwner(lockDir);
    // A live holder on this host is never taken over, even if it stalled past `staleMs`.
    if (before !== null && before.host === hostname() && !deadHere(before))
      throw heldError(out, before);
    try {
      release = await lockfile.lock(out, {
        lockfilePath: lockDir,
        realpath: false,
        stale: staleMs,
        update: staleMs / 6,
        retries: 0,
        fs: lockFs(lockDir, owner),
        onCompromised: (e) => onCompromised(e.message),
      });
    } catch (e) {
      if (errnoOf(e) !== "ELOCKED") throw fsError("lock the output directory", out, e);
      const holder = await readOwner(lockDir);
      if (attempt < 3 && deadHere(holder)) {
        await takeOver(lockDir, holder);
        continue;
      }
      if (attempt < 3 && holder === null) {
        // The holder is between its mkdir and writing owner.json: look again shortly.
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      throw heldError(out, holder);
    }
  }
  const held = release;
  let released = false;
  return {
    path: lockDir,
    async release() {
      if (released) return;
      released = true;
      await held().catch(() => undefined); // ERELEASED after a compromise: nothing left to do
    },
  };
};
