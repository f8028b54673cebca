/**
 * Reading bytes from files in checked steps: the first bytes and the size of a file can be
 * examined before the whole file is read. Internal to the readers (not re-exported).
 */
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import * as E from "fp-ts/lib/Either.js";
import { corrupt, type DataError, describeCause, unreadable } from "./errors.js";

/** Fills `into` from `position` of the file (looping over short reads); returns bytes read. */
export const readFully = async (
  handle: FileHandle,
  into: Uint8Array,
  position: number,
): Promise<number> => {
  let filled = 0;
  while (filled < into.length) {
    const { bytesRead } = await handle.read(into, filled, into.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
};

/**
 * Reads a whole regular file, after `check(head, size)` has accepted its first `headBytes`
 * bytes and its size: a file refused by `check` is never read in full.
 */
export const readFileChecked = async (
  file: string,
  headBytes: number,
  check: (head: Uint8Array, size: number) => E.Either<DataError, void>,
): Promise<E.Either<DataError, Buffer>> => {
  let handle: FileHandle;
  try {
    handle = await open(file, "r");
  } catch (cause) {
    return E.left(unreadable(file, `cannot read the file (${describeCause(cause)})`));
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return E.left(unreadable(file, "is not a regular file"));
    const size = info.size;
    const head = new Uint8Array(Math.min(size, headBytes));
    if ((await readFully(handle, head, 0)) !== head.length) {
      return E.left(corrupt(file, "the file shrank while being read"));
    }
    const checked = check(head, size);
    if (E.isLeft(checked)) return checked;
    const bytes = Buffer.allocUnsafe(size);
    const read = await readFully(handle, bytes, 0);
    if (read !== size) {
      return E.left(
        corrupt(file, `read ${read} bytes where ${size} were expected (file changed?)`),
      );
    }
    return E.right(bytes);
  } catch (cause) {
    return E.left(unreadable(file, `cannot read the file (${describeCause(cause)})`));
  } finally {
    await handle.close();
  }
};
