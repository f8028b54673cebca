/**
 * The output directory's file system side: where `--out` may live (checked before anything is
 * created: a missing parent, a file in the way, `/proc` or `/sys`, a read-only or full disk each
 * give one line naming the path and the cause), creating it one level at a time (Node's recursive
 * `mkdir` loops forever under `/proc` and reports a read-only file system as ENOENT), and atomic
 * text files that leave no temporary file behind when the write fails.
 *
 * @module
 */
import { mkdir, rename, rm, rmdir, stat, statfs, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { AppError } from "./AppError.js";

/** What an errno means for a user, with the fix. */
const causes: Readonly<Record<string, string>> = {
  EROFS: "the file system is read-only; choose a writable directory",
  EACCES: "permission denied; choose a directory you may write to",
  EPERM: "operation not permitted; choose a directory you may write to",
  ENOSPC: "no space left on the device; free space or choose another disk",
  EDQUOT: "disk quota exceeded; free space or choose another disk",
  ENOTDIR: "a part of the path is a file, not a directory; choose another path",
  EEXIST: "a file is in the way; choose another path",
  ENAMETOOLONG: "the path is too long; choose a shorter one",
  ELOOP: "too many symbolic links in the path",
  EIO: "an input/output error on the device",
  ENOENT: "a directory in the path does not exist",
};

/** The errno code of a Node file system error, or undefined. */
export const errnoOf = (e: unknown): string | undefined =>
  e instanceof Error && typeof (e as NodeJS.ErrnoException).code === "string"
    ? (e as NodeJS.ErrnoException).code
    : undefined;

/** One line for a failed file system operation: what, the path, the cause and the fix (exit 1). */
export const fsError = (what: string, path: string, e: unknown): AppError => {
  const code = errnoOf(e);
  const cause =
    code === undefined
      ? e instanceof Error
        ? e.message
        : String(e)
      : `${causes[code] ?? (e as Error).message.replace(/^[A-Z]+: /, "")} (${code})`;
  return new AppError(`cannot ${what} ${path}: ${cause}`, 1);
};

/**
 * File systems that hold no user files (statfs magic numbers, `man 2 statfs`): a run directory
 * there cannot work, and the kernel's answers (ENOENT under `/proc`, EPERM under `/sys`) mislead.
 */
const virtualFileSystems: ReadonlyMap<number, string> = new Map([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
  [0x64626720, "debugfs"],
  [0x73636673, "securityfs"],
  [0x6165676c, "pstore"],
  [0x74726163, "tracefs"],
  [0xcafe4a11, "bpf"],
]);

/** The path's nearest existing ancestor (itself when it exists) and the parts below it. */
const existingAncestor = async (
  path: string,
): Promise<{ readonly existing: string; readonly missing: string[] }> => {
  const missing: string[] = [];
  let p = path;
  for (;;) {
    try {
      const s = await stat(p);
      if (!s.isDirectory())
        throw new AppError(
          `--out: ${p} is a file, not a directory; choose another --out (a directory path)`,
          1,
        );
      return { existing: p, missing };
    } catch (e) {
      if (e instanceof AppError) throw e;
      const code = errnoOf(e);
      if (code !== "ENOENT") throw fsError("use", p, e);
      const parent = dirname(p);
      if (parent === p) throw fsError("use", p, e);
      missing.unshift(p);
      p = parent;
    }
  }
};

/**
 * Checks where `out` lives and creates it (with missing parents, one level at a time); returns the
 * directories it created, deepest last, so that a run that fails its checks can remove them again.
 * Nothing is created when the nearest existing ancestor is on a virtual file system or not a
 * directory.
 */
export const ensureOutDir = async (out: string): Promise<readonly string[]> => {
  const abs = resolve(out);
  const { existing, missing } = await existingAncestor(abs);
  let fsType: number | undefined;
  try {
    fsType = (await statfs(existing)).type;
  } catch {
    fsType = undefined; // statfs is not everywhere; the mkdir below still reports the cause
  }
  const virtual = fsType === undefined ? undefined : virtualFileSystems.get(fsType);
  if (virtual !== undefined)
    throw new AppError(
      `--out: ${out} would be on the ${virtual} file system at ${existing}, which cannot hold files; choose a directory on a disk`,
      1,
    );
  const created: string[] = [];
  for (const dir of missing) {
    try {
      await mkdir(dir);
      created.push(dir);
    } catch (e) {
      await removeCreated(created);
      throw fsError("create the output directory", dir, e);
    }
  }
  return created;
};

/** Removes directories made by {@link ensureOutDir} that are still empty, deepest first. */
export const removeCreated = async (created: readonly string[]): Promise<void> => {
  for (const dir of [...created].reverse()) await rmdir(dir).catch(() => undefined);
};

/**
 * Writes each `[file, text]` atomically: all to temporary files next to them first, then renamed
 * one after the other, so a failed write (a full disk) replaces none of them. On failure the
 * temporary files are removed and one line naming the file and the cause is thrown (exit 1).
 */
export const writeTextFilesAtomic = async (
  files: ReadonlyArray<readonly [string, string]>,
): Promise<void> => {
  const tmps = files.map(([file]) => `${file}.tmp-${process.pid}`);
  const cleanUp = () =>
    Promise.all(tmps.map((tmp) => rm(tmp, { force: true }).catch(() => undefined)));
  for (const [k, [file, text]] of files.entries()) {
    try {
      await writeFile(tmps[k] as string, text);
    } catch (e) {
      await cleanUp();
      throw fsError("write", file, e);
    }
  }
  for (const [k, [file]] of files.entries()) {
    try {
      await rename(tmps[k] as string, file);
    } catch (e) {
      await cleanUp();
      throw fsError("replace", file, e);
    }
  }
};

/** Writes `text` to `file` atomically (see {@link writeTextFilesAtomic}). */
export const writeTextAtomic = (file: string, text: string): Promise<void> =>
  writeTextFilesAtomic([[file, text]]);
