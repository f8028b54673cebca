/**
 * A direct `Conv2DBackpropInput` on the wasm backend: every dx pixel as a sum over the filter taps
 * that land on an output-gradient pixel, in a small SIMD module (wasm/convInputGrad.wat) on the
 * backend's own memory that reads `dy` where it lies. The XNNPACK composition it replaces
 * (`xnnpackInputGrad` in conv2dGrad.ts) runs a forward convolution over a zero-inserted, padded
 * `dy` (for the bench CNN's 3x3 valid layer on 13 x 13 inputs, 1.4x the useful products, the extra
 * ones with zeros) with a reversed, transposed filter that XNNPACK packs again on every call. Here
 * the filter is packed once per call (KH * KW * Cin * Cout floats, in groups of 8 input channels),
 * and the dx pixels go in items of 4 that share their taps (`itemTable`), so products with zeros
 * remain only in the few items that mix pixels of different tap sets (1.06x the useful products on
 * that layer). Used for every float32 call where the module can run: it was faster than the
 * composition on every geometry measured (bench/convInputGrad.ts: 1.1-4.7x; 1.6-1.8x on the bench
 * CNN's call). The composition stays the path where the module cannot run (no WebAssembly SIMD, or
 * the threaded build, whose memory is shared and not exported) and for other dtypes.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { backend_util, TensorInfo } from "@tensorflow/tfjs-core";
import { convInputGradWasmBase64 } from "./convInputGradWasm.js";
import { free } from "./wasmKernelCall.js";
import { instantiateOn, perBackend, wasmBytes } from "./wasmModule.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The functions of the input-gradient module; pointers and strides are in bytes. */
export interface ConvInputGradExports {
  /**
   * `dx` [batch, pixels, cin] from `dy` and the packed filter `wp` (see wasm/convInputGrad.wat):
   * `items` the items of `itemTable` (`itemStride` bytes each), `bands` its `nbands` int32 counts
   * of items per band, `zero` Cout zeros,
   * `spare` 8 floats of scratch, `dyImage` the bytes of one dy image, `gStride` the bytes of one
   * packed group of 8 input channels.
   */
  readonly inputGrad: (
    dy: number,
    wp: number,
    dx: number,
    items: number,
    zero: number,
    spare: number,
    batch: number,
    pixels: number,
    cin: number,
    cout: number,
    dyImage: number,
    bands: number,
    nbands: number,
    itemStride: number,
    gStride: number,
  ) => void;
}

/** Finds the module for a backend (a parameter so tests can take the XNNPACK path). */
export type ConvInputGradModuleOf = (backend: BackendWasm) => ConvInputGradExports | undefined;

/**
 * The items of one image (see wasm/convInputGrad.wat): `count` items of `stride` int32s: a tap
 * count, the byte offsets in a dx image of up to `pixelsPerItem` pixels (-1: none), then per tap
 * (kh, kw) its offset in a packed filter group and each pixel's dy pixel offset in a dy image (-1:
 * this tap misses dy for that pixel).
 */
export interface ItemTable {
  readonly items: Int32Array;
  readonly count: number;
  /** Items per band of `bandRows` dx rows, in order (the items are stored band after band). */
  readonly bands: Int32Array;
  /** int32s per item: 1 + 4 + 5 KH KW. */
  readonly stride: number;
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The module's bytes (decoded from the generated base64). */
export const convInputGradWasmBytes = (): Uint8Array<ArrayBuffer> =>
  wasmBytes(convInputGradWasmBase64);

/**
 * Instantiates the module on `memory`, or returns undefined where it cannot run (no WebAssembly
 * SIMD, or a memory it cannot import, e.g. a shared one). Compiles synchronously: the module is
 * about a kilobyte, well under browsers' limit for that.
 */
export function instantiateConvInputGrad(
  memory: WebAssembly.Memory,
): ConvInputGradExports | undefined {
  // Typed by the .wat source: inputGrad(i32 x 15).
  return instantiateOn<ConvInputGradExports>(convInputGradWasmBytes(), memory, ["inputGrad"]);
}

const cached = perBackend(instantiateConvInputGrad);

/**
 * The module instantiated on the backend's linear memory (tfjs-backend-wasm 4.22.0 exports it as
 * the Emscripten module's `asm.memory`), or undefined where it is not reachable or cannot run.
 */
export function convInputGradFor(backend: BackendWasm): ConvInputGradExports | undefined {
  return cached(backend);
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
 * Per position on one axis (a dx row ih, or column iw), the dy position each filter tap k meets
 * (oh for ih = oh * stride + k * dilation - pad), or -1; as a flat [size][filter] array.
 */
function axisTaps(
  size: number,
  outSize: number,
  filter: number,
  stride: number,
  dilation: number,
  pad: number,
): Int32Array {
  const out = new Int32Array(size * filter).fill(-1);
  for (let i = 0; i < size; i++)
    for (let k = 0; k < filter; k++) {
      const t = i + pad - k * dilation;
      if (t >= 0 && t % stride === 0 && t / stride < outSize) out[i * filter + k] = t / stride;
    }
  return out;
}

/**
 * Numbers each distinct set of taps on one axis: per position, the index of its set (-1 for the
 * empty set).
 */
function axisKeys(taps: Int32Array, size: number, filter: number): Int32Array {
  const ids = new Map<string, number>();
  const out = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    let key = "";
    for (let k = 0; k < filter; k++) key += (taps[i * filter + k] as number) < 0 ? "0" : "1";
    if (!key.includes("1")) {
      out[i] = -1;
      continue;
    }
    const id = ids.get(key) ?? ids.size;
    ids.set(key, id);
    out[i] = id;
  }
  return out;
}

/**
 * The cache budget of one band of dx rows (their dx and the dy rows they read), in floats: every
 * group of 8 input channels passes over a band, so it should stay in cache (the bench CNN's 13 x 13
 * x 32 images are one band; without bands, 58 x 58 x 64 images took 1.3x longer).
 */
export const bandFloats = 16384;

/** The number of dx rows per band (at least 1) for `bandFloats`. */
export function bandRows(info: backend_util.Conv2DInfo): number {
  const perRow = info.inWidth * info.inChannels + info.outWidth * info.outChannels;
  return Math.max(1, Math.floor(bandFloats / Math.max(1, perRow)));
}

/**
 * The items of `info` (see `ItemTable`): in each band of `rowsPerBand` dx rows (>= 1), the pixels grouped by
 * their set of taps (raster order within a set), 4 per item; the 1-3 left over of each set are
 * then grouped with those of the following sets, an item taking the union of its pixels' taps (a
 * pixel reads the zeros for the taps it lacks). So only those mixed items compute products with
 * zeros.
 */
export function itemTable(
  info: backend_util.Conv2DInfo,
  rowsPerBand: number = bandRows(info),
): ItemTable {
  const { inHeight: h, inWidth: w, filterHeight: kh, filterWidth: kw, outChannels: cout } = info;
  const rowTaps = axisTaps(
    h,
    info.outHeight,
    kh,
    info.strideHeight,
    info.dilationHeight,
    info.padInfo.top,
  );
  const colTaps = axisTaps(
    w,
    info.outWidth,
    kw,
    info.strideWidth,
    info.dilationWidth,
    info.padInfo.left,
  );
  // A pixel's set of taps is its row's set of kh times its column's set of kw (empty if either is).
  const rowKeys = axisKeys(rowTaps, h, kh);
  const colKeys = axisKeys(colTaps, w, kw);
  const colSets = Math.max(...colKeys, 0) + 1;
  const chunks: number[][] = []; // pixels ih * W + iw
  const bands: number[] = [];
  for (let ih0 = 0; ih0 < h; ih0 += rowsPerBand) {
    const byKey = new Map<number, number[]>();
    for (let ih = ih0; ih < Math.min(h, ih0 + rowsPerBand); ih++)
      for (let iw = 0; iw < w; iw++) {
        const rk = rowKeys[ih] as number;
        const ck = colKeys[iw] as number;
        const key = rk < 0 || ck < 0 ? -1 : rk * colSets + ck;
        const list = byKey.get(key) ?? [];
        list.push(ih * w + iw);
        byKey.set(key, list);
      }
    const before = chunks.length;
    const rest: number[] = [];
    for (const list of byKey.values()) {
      const whole = list.length - (list.length % pixelsPerItem);
      for (let j = 0; j < whole; j += pixelsPerItem) chunks.push(list.slice(j, j + pixelsPerItem));
      rest.push(...list.slice(whole));
    }
    for (let j = 0; j < rest.length; j += pixelsPerItem)
      chunks.push(rest.slice(j, j + pixelsPerItem));
    bands.push(chunks.length - before);
  }
  const stride = 1 + pixelsPerItem + (1 + pixelsPerItem) * kh * kw;
  const items = new Int32Array(Math.max(1, chunks.length * stride)).fill(-1);
  chunks.forEach((chunk, i) => {
    const base = i * stride;
    chunk.forEach((p, j) => {
      items[base + 1 + j] = p * info.inChannels * 4;
    });
    let count = 0;
    for (let r = 0; r < kh; r++)
      for (let c = 0; c < kw; c++) {
        const at = base + 1 + pixelsPerItem + count * (1 + pixelsPerItem);
        let any = false;
        chunk.forEach((p, j) => {
          const oh = rowTaps[Math.floor(p / w) * kh + r] as number;
          const ow = colTaps[(p % w) * kw + c] as number;
          if (oh < 0 || ow < 0) return;
          items[at + 1 + j] = (oh * info.outWidth + ow) * cout * 4;
          any = true;
        });
        if (!any) continue;
        items[at] = (r * kw + c) * cout * 4 * groupChannels;
        count++;
      }
    items[base] = count;
  });
  return { items, count: chunks.length, bands: Int32Array.from(bands), stride };
}

/**
 * The multiply-adds of one call on each path: `xnnpack`, B * H * W * KH * KW * Cin * Cout (the
 * composition convolves every dx pixel with every tap, over zeros where dy is padded or
 * zero-inserted); `direct`, what the module computes: 4 pixels times the taps of each item
 * (zeros in mixed items included), times Cin rounded up to a group of 8 and Cout.
 */
export function inputGradWork(info: backend_util.Conv2DInfo): {
  readonly xnnpack: number;
  readonly direct: number;
} {
  const t = itemTable(info);
  let taps = 0;
  for (let i = 0; i < t.count; i++) taps += pixelsPerItem * (t.items[i * t.stride] as number);
  const channels = info.outChannels * info.batchSize;
  return {
    xnnpack:
      info.inHeight *
      info.inWidth *
      info.filterHeight *
      info.filterWidth *
      info.inChannels *
      channels,
    direct: taps * Math.ceil(info.inChannels / groupChannels) * groupChannels * channels,
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
  const table = itemTable(info);
  const dx = backend.makeOutput(
    [info.batchSize, info.inHeight, info.inWidth, info.inChannels],
    "float32",
  );
  const wp = backend.makeOutput([Math.max(1, packedFilterLength(info))], "float32");
  const items = backend.makeOutput([table.items.length], "int32");
  const bands = backend.makeOutput([Math.max(1, table.bands.length)], "int32");
  const zero = backend.makeOutput([Math.max(1, info.outChannels)], "float32");
  const spare = backend.makeOutput([groupChannels], "float32");
  try {
    // Views and offsets are taken after the last allocation: growing the heap detaches older views.
    const view = (t: TensorInfo) => backend.typedArrayFromHeap(t);
    (view(items) as Int32Array).set(table.items);
    (view(bands) as Int32Array).set(table.bands);
    (view(zero) as Float32Array).fill(0);
    packFilter(view(filter) as Float32Array, view(wp) as Float32Array, info);
    const at = (t: TensorInfo) => view(t).byteOffset;
    const cout = info.outChannels;
    m.inputGrad(
      at(dy),
      at(wp),
      at(dx),
      at(items),
      at(zero),
      at(spare),
      info.batchSize,
      info.inHeight * info.inWidth,
      info.inChannels,
      cout,
      info.outHeight * info.outWidth * cout * 4,
      at(bands),
      table.bands.length,
      table.stride * 4,
      info.filterHeight * info.filterWidth * cout * 4 * groupChannels,
    );
  } finally {
    free(backend, wp, items, bands, zero, spare);
  }
  return dx;
}
