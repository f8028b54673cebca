/**
 * A minimal POSIX ustar archive of regular files, written and read in memory: the page's weight
 * download is one `.tar` holding the two files of a `@wider/weights` save directory
 * (`manifest.json` and its blob), so `tar xf` gives a directory `loadWeights` reads.
 *
 * @module
 */

/** One file in an archive: a plain name (no directories) and its bytes. */
export interface TarEntry {
  readonly name: string;
  readonly data: Uint8Array;
}

const BLOCK = 512;

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

const writeField = (block: Uint8Array, offset: number, size: number, text: string): void => {
  const b = ascii(text);
  if (b.length > size) throw new RangeError(`tar: "${text}" does not fit a ${size}-byte field`);
  block.set(b, offset);
};

const octal = (n: number, size: number): string => `${n.toString(8).padStart(size - 1, "0")}\0`;

/**
 * Packs files into a ustar archive (mode 0644, mtime `mtime` seconds). Names must be plain
 * ASCII file names of at most 100 bytes.
 *
 * @example
 * const tarBytes = writeTar([{ name: "manifest.json", data: bytes }]);
 */
export const writeTar = (entries: readonly TarEntry[], mtime = 0): Uint8Array => {
  let size = 2 * BLOCK;
  for (const e of entries) size += BLOCK + Math.ceil(e.data.length / BLOCK) * BLOCK;
  const out = new Uint8Array(size);
  let o = 0;
  for (const e of entries) {
    if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(e.name) || e.name.includes("/"))
      throw new RangeError(`tar: "${e.name}" is not a plain ASCII file name`);
    const h = out.subarray(o, o + BLOCK);
    writeField(h, 0, 100, e.name);
    writeField(h, 100, 8, octal(0o644, 8));
    writeField(h, 108, 8, octal(0, 8));
    writeField(h, 116, 8, octal(0, 8));
    writeField(h, 124, 12, octal(e.data.length, 12));
    writeField(h, 136, 12, octal(Math.floor(mtime), 12));
    h.fill(0x20, 148, 156); // checksum computed over spaces
    h[156] = 0x30; // '0': regular file
    writeField(h, 257, 6, "ustar\0");
    writeField(h, 263, 2, "00");
    let sum = 0;
    for (const b of h) sum += b;
    writeField(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
    out.set(e.data, o + BLOCK);
    o += BLOCK + Math.ceil(e.data.length / BLOCK) * BLOCK;
  }
  return out;
};

const readString = (b: Uint8Array): string => {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end === -1 ? b : b.subarray(0, end));
};

/**
 * Reads the regular files of a ustar (or GNU/pax-headed) archive; directories and extended
 * headers are skipped. A bad checksum or truncated archive is an error naming the problem.
 */
export const readTar = (bytes: Uint8Array): TarEntry[] => {
  const files: TarEntry[] = [];
  let o = 0;
  while (o + BLOCK <= bytes.length) {
    const h = bytes.subarray(o, o + BLOCK);
    if (h.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    const stored = Number.parseInt(readString(h.subarray(148, 156)).trim(), 8);
    if (stored !== sum)
      throw new Error(
        `not a tar archive (header checksum ${stored} != ${sum} at byte ${o}); choose the .tar file this page exported`,
      );
    const size = Number.parseInt(readString(h.subarray(124, 136)).trim() || "0", 8);
    const type = String.fromCharCode(h[156] ?? 0);
    const prefix = readString(h.subarray(345, 500));
    const base = readString(h.subarray(0, 100));
    const name = prefix === "" ? base : `${prefix}/${base}`;
    const start = o + BLOCK;
    if (start + size > bytes.length)
      throw new Error(`tar archive is truncated: "${name}" needs ${size} bytes past byte ${start}`);
    if (type === "0" || type === "\0")
      files.push({ name: name.replace(/^\.\//, ""), data: bytes.slice(start, start + size) });
    o = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
};
