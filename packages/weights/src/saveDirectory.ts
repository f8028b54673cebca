/**
 * The files of a save directory: creating the directory safely, naming files, describing file
 * system errors, and removing what crashed writers left behind ({@link cleanStale}). Node only
 * (`node:fs` is imported lazily).
 *
 * A save directory holds `manifest.json` and the blob it names, `weights-<tag>.bin`. While a
 * save runs it also holds `.manifest.json.<tag>.tmp-<pid>` and `.weights-<tag>.bin.tmp-<pid>`,
 * where `<pid>` is the writer's process id and `<tag>` the new blob's tag.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type WeightsError, weightsError } from "./errors.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The manifest's file name inside a save directory. */
export const MANIFEST_FILE = "manifest.json";

const BLOB_RE = /^weights-([0-9a-f]{12})\.bin$/;
const BLOB_TMP_RE = /^\.weights-([0-9a-f]{12})\.bin\.tmp-(\d{1,10})$/;
const MANIFEST_TMP_RE = /^\.manifest\.json\.([0-9a-f]{12})\.tmp-(\d{1,10})$/;

/** The names one save uses: the blob, and the temporary names of the blob and the manifest. */
export const saveFileNames = (tag: string, pid: number) => ({
  blob: `weights-${tag}.bin`,
  blobTmp: `.weights-${tag}.bin.tmp-${pid}`,
  manifestTmp: `.${MANIFEST_FILE}.${tag}.tmp-${pid}`,
});

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const fsP = () => import("node:fs/promises");
const pathM = () => import("node:path");

const codeOf = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
};

const CAUSES: Readonly<Record<string, readonly [cause: string, fix: string]>> = {
  ENOSPC: ["no space left on device", "free some space or choose another directory"],
  EDQUOT: ["disk quota exceeded", "free some space or choose another directory"],
  EROFS: ["read-only file system", "choose a directory on a writable file system"],
  EACCES: ["permission denied", "choose a directory you may write to"],
  EPERM: ["operation not permitted", "choose a directory you may write to"],
  ENOENT: ["no such file or directory", "check the path"],
  ENOTDIR: ["a component of the path is not a directory", "check the path"],
  EISDIR: ["is a directory", "check the path"],
  EMFILE: ["too many open files", "close files or raise the limit"],
  EIO: ["input/output error", "check the disk"],
};

/** `no space left on device (ENOSPC); free some space or choose another directory`, say. */
export const describeFsError = (e: unknown): string => {
  const code = codeOf(e);
  const known = code === undefined ? undefined : CAUSES[code];
  if (known !== undefined) return `${known[0]} (${code}); ${known[1]}`;
  const msg = e instanceof Error ? e.message : String(e);
  return code === undefined || msg.includes(code) ? msg : `${msg} (${code})`;
};

/** An `io` error naming the operation, the path and the cause. */
export const fsError = (what: string, file: string, e: unknown): WeightsError =>
  weightsError("io", `${what} ${file}: ${describeFsError(e)}`, { path: file });

/** Writes `data` to a new file (failing if it exists) and flushes it to disk. */
export const writeFileSynced = async (file: string, data: Uint8Array | string): Promise<void> => {
  const fs = await fsP();
  const h = await fs.open(file, "wx");
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
};

/** Whether process `pid` is alive on this machine (a process we may not signal is alive). */
const isAlive = (pid: number): boolean => {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return codeOf(e) === "EPERM";
  }
};

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Creates `dir` and any missing parents one level at a time (Node's recursive `mkdir` never
 * returns on `/proc`), then checks it is a writable directory. Each failure is a `Left` naming
 * the path and the cause (`read-only file system (EROFS)`, `permission denied (EACCES)`, ...).
 */
export const prepareDirectory = async (
  what: string,
  dir: string,
): Promise<E.Either<WeightsError, void>> => {
  const fs = await fsP();
  const path = await pathM();
  const abs = path.resolve(dir);
  // Walk up to the nearest existing ancestor.
  const missing: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      const st = await fs.stat(cur);
      if (!st.isDirectory()) {
        return E.left(
          weightsError(
            "io",
            `${what}: cannot save to ${dir}: ${cur} exists and is not a directory; choose another path`,
            { path: cur, fix: "choose another path" },
          ),
        );
      }
      break;
    } catch (e) {
      const code = codeOf(e);
      // ENOTDIR: an ancestor is a file; walking up finds it and says so.
      if (code !== "ENOENT" && code !== "ENOTDIR")
        return E.left(fsError(`${what}: cannot inspect`, cur, e));
      const parent = path.dirname(cur);
      if (parent === cur) return E.left(fsError(`${what}: cannot inspect`, cur, e));
      missing.push(cur);
      cur = parent;
    }
  }
  for (const d of missing.reverse()) {
    try {
      await fs.mkdir(d);
    } catch (e) {
      const code = codeOf(e);
      if (code === "EEXIST") {
        const st = await fs.stat(d).catch(() => undefined);
        if (st?.isDirectory() === true) continue;
      }
      if (code === "ENOENT") {
        // The parent exists (we just checked or created it), yet it refuses the entry: a
        // virtual file system such as /proc.
        return E.left(
          weightsError(
            "io",
            `${what}: cannot create directory ${d}: ${path.dirname(d)} does not accept new ` +
              "entries (ENOENT although it exists; a virtual file system such as /proc?); " +
              "choose a directory on a regular file system",
            { path: d, fix: "choose a directory on a regular file system" },
          ),
        );
      }
      return E.left(fsError(`${what}: cannot create directory`, d, e));
    }
  }
  try {
    await fs.access(abs, fs.constants.W_OK);
  } catch (e) {
    return E.left(fsError(`${what}: cannot write to directory`, abs, e));
  }
  return E.right(undefined);
};

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** The blob file name `dir/manifest.json` names, read leniently (any format version). */
const referencedBlob = async (
  dir: string,
): Promise<{ readonly kind: "none" } | { readonly kind: "blob"; readonly name: string } | null> => {
  const fs = await fsP();
  const path = await pathM();
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, MANIFEST_FILE), "utf8");
  } catch (e) {
    return codeOf(e) === "ENOENT" ? { kind: "none" } : null;
  }
  try {
    const json: unknown = JSON.parse(text);
    const blob = (json as { blob?: unknown } | null)?.blob;
    return typeof blob === "string" ? { kind: "blob", name: blob } : null;
  } catch {
    return null;
  }
};

/**
 * Removes what crashed saves left in `dir`: temporary files (`*.tmp-<pid>`) of writers that are no
 * longer alive, and blobs (`weights-<tag>.bin`) that `manifest.json` does not name and that no
 * live writer is about to name. Returns the removed file names. Nothing else is touched; if the
 * manifest exists but cannot be read, no blob is removed. `saveBundle` calls it before and after
 * writing. Process ids are checked on this machine only: do not share one save directory between
 * machines while saving.
 *
 * @example
 * const removed = await cleanStale("runs/final"); // Right([".weights-…bin.tmp-4242", …])
 */
export const cleanStale = async (
  dir: string,
): Promise<E.Either<WeightsError, readonly string[]>> => {
  const fs = await fsP();
  const path = await pathM();
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    return E.left(fsError("cleanStale: cannot list", dir, e));
  }
  const removed: string[] = [];
  const inFlight = new Set<string>();
  const remove = async (name: string) => {
    try {
      await fs.rm(path.join(dir, name), { force: true });
      removed.push(name);
    } catch {
      // Another cleaner removed it, or it cannot be removed: leave it.
    }
  };
  for (const name of names) {
    const m = MANIFEST_TMP_RE.exec(name) ?? BLOB_TMP_RE.exec(name);
    if (m === null) continue;
    const pid = Number(m[2]);
    if (pid < 1) continue;
    if (isAlive(pid)) {
      if (MANIFEST_TMP_RE.test(name)) inFlight.add(m[1] ?? "");
    } else {
      await remove(name);
    }
  }
  // Read the manifest after listing: a blob listed above whose writer has since finished is
  // named by this manifest (or by a newer one, which makes it a real orphan).
  const ref = await referencedBlob(dir);
  if (ref !== null) {
    for (const name of names) {
      const m = BLOB_RE.exec(name);
      if (m === null || inFlight.has(m[1] ?? "")) continue;
      if (ref.kind === "blob" && ref.name === name) continue;
      await remove(name);
    }
  }
  return E.right(removed);
};
