import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";

/** Bytes of an IDX file: header (dtype code, shape) followed by `body`. */
export const idxBytes = (code: number, shape: readonly number[], body: Uint8Array): Buffer => {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = code;
  header[3] = shape.length;
  for (const [i, dim] of shape.entries()) header.writeUInt32BE(dim, 4 + 4 * i);
  return Buffer.concat([header, body]);
};

/** A uint8 IDX file of the given shape whose element i is `fill(i)`. */
export const uint8Idx = (shape: readonly number[], fill: (i: number) => number): Buffer => {
  const n = shape.reduce((a, b) => a * b, 1);
  const body = new Uint8Array(n);
  for (let i = 0; i < n; i++) body[i] = fill(i) & 0xff;
  return idxBytes(0x08, shape, body);
};

export const gzip = (bytes: Uint8Array): Buffer => gzipSync(bytes);

/** A fresh temporary directory with `write(name, bytes)` and `cleanup()`. */
export const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "wider-data-"));
  return {
    dir,
    write: (name: string, bytes: Uint8Array): string => {
      const file = path.join(dir, name);
      writeFileSync(file, bytes);
      return file;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
};
