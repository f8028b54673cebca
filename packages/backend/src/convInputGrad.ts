/**
 * A direct `Conv2DBackpropInput` on the wasm backend: every dx pixel as a sum over the filter taps
 * that land on an output-gradient pixel, in a small SIMD module (wasm/convInputGrad.wat) on the
 * backend's own memory that reads `dy` where it lies. The XNNPACK composition it replaces
 * (`xnnpackInputGrad` in conv2dGrad.ts) runs a forward convolution over a zero-inserted, padded
 * `dy` (for the bench CNN's 3x3 valid layer on 13 x 13 inputs, 1.4x the useful products, the extra
 * ones with zeros) with a reversed, transposed filter that XNNPACK packs again on every call. Here
 * the filter is packed once per call (KH * KW * Cin * Cout floats, in groups of 8 input channels),
 * rows of taps that miss dy are skipped, and products with zeros remain only at the column edges
 * and in a row's short last item of 4 pixels (1.2x on that layer). Used for every float32 call
 * where the module can run: it was faster than the composition on every geometry measured
 * (bench/convInputGrad.ts: 1.0-3.8x; 1.6x on the bench CNN's call). The composition stays the path
 * where the module cannot run (no WebAssembly SIMD, or the threaded build, whose memory is shared
 * and not exported) and for other dtypes.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { backend_util, TensorInfo } from "@tensorflow/tfjs-core";
import { convInputGradWasmBase64 } from "./convInputGradWasm.js";
import { free } from "./wasmKernelCall.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The functions of the input-gradient module; pointers and strides are in bytes. */
export interface ConvInputGradExports {
  /**
   * `dx` [batch, h, w, cin] from `dy` and the packed filter `wp` (see wasm/convInputGrad.wat):
   * `rowTab` / `colTab` the tables of `tapTables` (`rowStride` / `itemStride` bytes per row or
   * item, `items` items per row), `zero` Cout zeros, `spare` 8 floats of scratch, `dyImage` the
   * bytes of one dy image, `gStride` the bytes of one packed group of 8 input channels.
   */
  readonly inputGrad: (
    dy: number,
    wp: number,
    dx: number,
    rowTab: number,
    colTab: number,
    zero: number,
    spare: number,
    batch: number,
    h: number,
    w: number,
    cin: number,
    cout: number,
    dyImage: number,
    rowStride: number,
    items: number,
    itemStride: number,
    gStride: number,
  ) => void;
}

/** Finds the module for a backend (a parameter so tests can take the XNNPACK path). */
export type ConvInputGradModuleOf = (backend: BackendWasm) => ConvInputGradExports | undefined;

/**
 * The taps of each dx row and the column items of a row (see wasm/convInputGrad.wat): `rows`
 * holds, for row ih at `ih * rowStride` int32s, the count of filter rows kh that land on a dy row
 * oh, then per such tap the byte offsets of dy row oh in an image and of filter row kh in a packed
 * group; `cols` holds `items` items of `itemStride` int32s: a tap count, the byte offsets in a dx
 * row of up to `pixelsPerItem` pixels (-1: none), then per tap kw the offset of filter column kw
 * in a packed row and each pixel's dy column offset in a dy row (-1: this kw misses dy there).
 */
export interface TapTables {
  readonly rows: Int32Array;
  readonly cols: Int32Array;
  /** int32s per row entry: 1 + 2 KH. */
  readonly rowStride: number;
  /** Column items per dx row. */
  readonly items: number;
  /** int32s per column item: 5 + 5 KW. */
  readonly itemStride: number;
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The module's bytes (decoded from the generated base64). */
export const convInputGradWasmBytes = (): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(convInputGradWasmBase64), (c) => c.charCodeAt(0));

/**
 * Instantiates the module on `memory`, or returns undefined where it cannot run (no WebAssembly
 * SIMD, or a memory it cannot import, e.g. a shared one). Compiles synchronously: the module is
 * about a kilobyte, well under browsers' limit for that.
 */
export function instantiateConvInputGrad(
  memory: WebAssembly.Memory,
): ConvInputGradExports | undefined {
  const bytes = convInputGradWasmBytes();
  if (!WebAssembly.validate(bytes)) return undefined;
  let exports: Record<string, unknown>;
  try {
    exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  } catch {
    return undefined; // LinkError: e.g. a shared memory (threaded build) against our unshared import.
  }
  const { inputGrad } = exports;
  if (typeof inputGrad !== "function") return undefined;
  // Typed by the .wat source: inputGrad(i32 x 17).
  return { inputGrad } as ConvInputGradExports;
}

/** One instance per backend memory (a cache: instantiating again would give the same function). */
const instances = new WeakMap<WebAssembly.Memory, ConvInputGradExports | undefined>();

/**
 * The module instantiated on the backend's linear memory (tfjs-backend-wasm 4.22.0 exports it as
 * the Emscripten module's `asm.memory`), or undefined where it is not reachable or cannot run.
 */
export function convInputGradFor(backend: BackendWasm): ConvInputGradExports | undefined {
  // The Emscripten module type (@types/emscripten) does not declare `asm`; read it structurally.
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return undefined;
  if (!instances.has(memory)) instances.set(memory, instantiateConvInputGrad(memory));
  return instances.get(memory);
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** Input channels per packed filter group (two float32x4). */
export const groupChannels = 8;

/** The number of float32s of the packed filter: ceil(Cin / 8) groups of KH * KW * Cout * 8. */
export const packedFilterLength = (info: backend_util.Conv2DInfo): number =>
  Math.ceil(info.inChannels / groupChannels) *
  info.filterHeight *
  info.filterWidth *
  info.outChannels *
  groupChannels;

/**
 * Packs the HWIO filter `w` [KH, KW, Cin, Cout] into `out` as [ceil(Cin / 8)][KH][KW][Cout][8]
 * (channels past Cin zero).
 */
export function packFilter(
  w: Float32Array,
  out: Float32Array,
  info: backend_util.Conv2DInfo,
): void {
  const { filterHeight: kh, filterWidth: kw, inChannels: cin, outChannels: cout } = info;
  const groups = Math.ceil(cin / groupChannels);
  out.fill(0);
  const taps = kh * kw;
  for (let g = 0; g < groups; g++)
    for (let t = 0; t < taps; t++)
      for (let j = 0; j < groupChannels; j++) {
        const ci = g * groupChannels + j;
        if (ci >= cin) break;
        const src = (t * cin + ci) * cout;
        let dst = (g * taps + t) * cout * groupChannels + j;
        for (let co = 0; co < cout; co++, dst += groupChannels) out[dst] = w[src + co] as number;
      }
}

/** dx pixels per column item (the module's register block). */
export const pixelsPerItem = 4;

/**
 * The tap tables of `info` (see `TapTables`): the columns of each phase mod sW, in order, in items
 * of 4 (the last of a phase may have fewer), each with the filter columns that meet a dy column
 * for at least one of its pixels.
 */
export function tapTables(info: backend_util.Conv2DInfo): TapTables {
  const cout = info.outChannels;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const rowStride = 1 + 2 * kh;
  const rows = new Int32Array(Math.max(1, info.inHeight * rowStride));
  for (let ih = 0; ih < info.inHeight; ih++) {
    let count = 0;
    for (let k = 0; k < kh; k++) {
      const t = ih + info.padInfo.top - k * info.dilationHeight;
      if (t < 0 || t % info.strideHeight !== 0 || t / info.strideHeight >= info.outHeight) continue;
      rows[ih * rowStride + 1 + 2 * count] = (t / info.strideHeight) * info.outWidth * cout * 4;
      rows[ih * rowStride + 2 + 2 * count] = k * kw * cout * 4 * groupChannels;
      count++;
    }
    rows[ih * rowStride] = count;
  }
  const sw = info.strideWidth;
  const chunks: number[][] = [];
  for (let phase = 0; phase < Math.min(sw, info.inWidth); phase++) {
    const columns: number[] = [];
    for (let iw = phase; iw < info.inWidth; iw += sw) columns.push(iw);
    for (let j = 0; j < columns.length; j += pixelsPerItem)
      chunks.push(columns.slice(j, j + pixelsPerItem));
  }
  const itemStride = 1 + pixelsPerItem + (1 + pixelsPerItem) * kw;
  const cols = new Int32Array(Math.max(1, chunks.length * itemStride)).fill(-1);
  chunks.forEach((chunk, i) => {
    const base = i * itemStride;
    for (let j = 0; j < pixelsPerItem; j++) {
      const iw = chunk[j];
      cols[base + 1 + j] = iw === undefined ? -1 : iw * info.inChannels * 4;
    }
    let count = 0;
    for (let k = 0; k < kw; k++) {
      const at = base + 1 + pixelsPerItem + count * (1 + pixelsPerItem);
      let any = false;
      for (let j = 0; j < pixelsPerItem; j++) {
        const iw = chunk[j];
        const t = iw === undefined ? -1 : iw + info.padInfo.left - k * info.dilationWidth;
        const hit = t >= 0 && t % sw === 0 && t / sw < info.outWidth;
        cols[at + 1 + j] = hit ? (t / sw) * cout * 4 : -1;
        any ||= hit;
      }
      if (!any) continue;
      cols[at] = k * cout * 4 * groupChannels;
      count++;
    }
    cols[base] = count;
  });
  return { rows, cols, rowStride, items: chunks.length, itemStride };
}

/**
 * The multiply-adds of one call on each path: `xnnpack`, B * H * W * KH * KW * Cin * Cout (the
 * composition convolves every dx pixel with every tap, over zeros where dy is padded or
 * zero-inserted); `direct`, what the module computes: the row taps that meet dy times the column
 * taps of its 4-pixel items (zeros at the row edges and in a short last item included), times Cin
 * rounded up to a group of 8 and Cout.
 */
export function inputGradWork(info: backend_util.Conv2DInfo): {
  readonly xnnpack: number;
  readonly direct: number;
} {
  const t = tapTables(info);
  let rowTaps = 0;
  for (let ih = 0; ih < info.inHeight; ih++) rowTaps += t.rows[ih * t.rowStride] as number;
  let colTaps = 0;
  for (let i = 0; i < t.items; i++) colTaps += pixelsPerItem * (t.cols[i * t.itemStride] as number);
  const channels = info.outChannels * info.batchSize;
  return {
    xnnpack:
      info.inHeight *
      info.inWidth *
      info.filterHeight *
      info.filterWidth *
      info.inChannels *
      channels,
    direct:
      rowTaps * colTaps * Math.ceil(info.inChannels / groupChannels) * groupChannels * channels,
  };
}

// -------------------------------------------------------------------------------------
// kernels
// -------------------------------------------------------------------------------------

/**
 * The input gradient [B, H, W, Cin] of the NHWC convolution described by `info` (dy its output
 * gradient, `filter` its HWIO filter), by the module `m` on the backend's memory. The caller owns
 * the result.
 */
export function directInputGrad(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  m: ConvInputGradExports,
): TensorInfo {
  const tables = tapTables(info);
  const dx = backend.makeOutput(
    [info.batchSize, info.inHeight, info.inWidth, info.inChannels],
    "float32",
  );
  const wp = backend.makeOutput([Math.max(1, packedFilterLength(info))], "float32");
  const rows = backend.makeOutput([tables.rows.length], "int32");
  const cols = backend.makeOutput([tables.cols.length], "int32");
  const zero = backend.makeOutput([Math.max(1, info.outChannels)], "float32");
  const spare = backend.makeOutput([groupChannels], "float32");
  try {
    // Views and offsets are taken after the last allocation: growing the heap detaches older views.
    const view = (t: TensorInfo) => backend.typedArrayFromHeap(t);
    (view(rows) as Int32Array).set(tables.rows);
    (view(cols) as Int32Array).set(tables.cols);
    (view(zero) as Float32Array).fill(0);
    packFilter(view(filter) as Float32Array, view(wp) as Float32Array, info);
    const at = (t: TensorInfo) => view(t).byteOffset;
    const cout = info.outChannels;
    m.inputGrad(
      at(dy),
      at(wp),
      at(dx),
      at(rows),
      at(cols),
      at(zero),
      at(spare),
      info.batchSize,
      info.inHeight,
      info.inWidth,
      info.inChannels,
      cout,
      info.outHeight * info.outWidth * cout * 4,
      tables.rowStride * 4,
      tables.items,
      tables.itemStride * 4,
      info.filterHeight * info.filterWidth * cout * 4 * groupChannels,
    );
  } finally {
    free(backend, wp, rows, cols, zero, spare);
  }
  return dx;
}
