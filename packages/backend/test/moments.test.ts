/**
 * The moments kernel (`WiderMoments`): the committed module matches its .wat source; the SIMD
 * module on a memory of its own, the registered wasm kernel (which must really run the module on
 * the backend's memory) and its JS-loop fallback all equal, bit for bit, an independent float64
 * oracle written here (per channel: the float64 sum of the values in row order / rows, then the
 * float64 sum of squared deviations from that mean / rows, each rounded to float32 once), at
 * channel counts around the 4-lane loop (tails), unaligned offsets, special values, rows 0 and 1;
 * and agree with `tf.moments` on the cpu backend (float32 arithmetic) within float32 tolerance.
 * Bad input is refused; neither tensors nor wasm heap leak.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { isWiderError, WiderFailure } from "@wider/errors";
import { beforeAll, describe, expect, it } from "vitest";
import { assembleWasm } from "../scripts/assembleWasm.js";
import { initWasmTraining, momentsKernelName, wasmHeapBytes } from "../src/index.js";
import { instantiateMoments, momentsFor, momentsWasmBytes, momentsWith } from "../src/moments.js";
import { expectSameFloats, normals, rng } from "./helpers.js";

beforeAll(async () => {
  await initWasmTraining();
});

/** The oracle: per channel, plain float64 arithmetic over the values in row order. */
function oracle(x: Float32Array, rows: number, c: number): { mean: number[]; variance: number[] } {
  const mean: number[] = [];
  const variance: number[] = [];
  for (let j = 0; j < c; j++) {
    const column: number[] = [];
    for (let r = 0; r < rows; r++) column.push(x[r * c + j] as number);
    const m = column.reduce((s, v) => s + v, 0) / rows;
    const v = column.reduce((s, u) => s + (u - m) ** 2, 0) / rows;
    mean.push(Math.fround(m));
    variance.push(Math.fround(v));
  }
  return { mean, variance };
}

/** Seeded values around `offset`, with the awkward ones mixed in when `special` is set. */
function values(seed: number, n: number, offset = 0, special = false): Float32Array {
  const out = normals(rng(seed), n);
  for (let i = 0; i < n; i++) out[i] = (out[i] as number) + offset;
  if (special) {
    const s = [0, -0, Infinity, Number.NaN, 1e-40, 3e38, -1e-30];
    for (let i = 0; i < n; i += 37) out[i] = s[(i / 37 + seed) % s.length] as number;
  }
  return out;
}

/** `[rows, channels]` cases: channel counts around the 4-lane loop, the CNN's 32 and 64. */
const CASES: ReadonlyArray<readonly [number, number]> = [
  [1, 1],
  [2, 1],
  [3, 2],
  [5, 3],
  [4, 4],
  [7, 5],
  [9, 7],
  [6, 8],
  [17, 9],
  [33, 32],
  [40, 33],
  [25, 64],
];

describe("moments module", () => {
  it("the committed bytes are the assembled wasm/moments.wat (run build:wasm after editing it)", async () => {
    expect(Buffer.from(momentsWasmBytes()).equals(Buffer.from(await assembleWasm("moments")))).toBe(
      true,
    );
  });

  it("equals the float64 oracle bit for bit at any channel count and 4-byte offset", () => {
    const memory = new WebAssembly.Memory({ initial: 2 });
    const k = instantiateMoments(memory);
    expect(k, "Node 20 supports WebAssembly SIMD").toBeDefined();
    for (const [rows, c] of CASES) {
      for (const shift of [0, 1, 3]) {
        const x = values(rows * 100 + c, rows * c, shift === 3 ? 1000 : 0, shift === 1);
        // x, scratch and the outputs at offsets that are multiples of 4 but, with shift, not 16.
        const at = { x: 64 + 4 * shift, acc: 40000 + 4 * shift, mean: 60000, variance: 61000 };
        at.mean += 4 * shift;
        at.variance += 4 * shift;
        const heap = new Float32Array(memory.buffer);
        heap.set(x, at.x / 4);
        heap.fill(12345, at.acc / 4 - 4, at.acc / 4 + 4 * c + 4); // garbage scratch
        for (const p of [at.mean, at.variance]) heap.fill(12345, p / 4 - 4, p / 4 + c + 4);
        k!.moments(at.x, rows, c, at.acc, at.mean, at.variance);
        const want = oracle(x, rows, c);
        const label = `rows ${rows} c ${c} shift ${shift}`;
        expectSameFloats(new Float32Array(memory.buffer, at.mean, c), want.mean, `mean ${label}`);
        expectSameFloats(
          new Float32Array(memory.buffer, at.variance, c),
          want.variance,
          `variance ${label}`,
        );
        // x untouched; nothing written next to the outputs or past the scratch.
        expectSameFloats(new Float32Array(memory.buffer, at.x, rows * c), x, `x ${label}`);
        const sentinel = Array(4).fill(12345);
        for (const p of [at.mean, at.variance]) {
          expect(Array.from(new Float32Array(memory.buffer, p - 16, 4)), label).toEqual(sentinel);
          expect(Array.from(new Float32Array(memory.buffer, p + 4 * c, 4)), label).toEqual(
            sentinel,
          );
        }
        expect(Array.from(new Float32Array(memory.buffer, at.acc + 16 * c, 4)), label).toEqual(
          sentinel,
        );
      }
    }
  });
});

/** The kernel's two outputs. */
const run = (name: string, x: tf.Tensor): [tf.Tensor, tf.Tensor] => {
  const out = tf.engine().runKernel(name, { x }) as unknown as tf.Tensor[];
  expect(out).toHaveLength(2);
  return [out[0]!, out[1]!];
};

/** `tf.moments` over every axis but the last on the cpu backend (float32 arithmetic). */
function cpuMoments(
  x: Float32Array,
  shape: number[],
): { mean: Float32Array; variance: Float32Array } {
  const prev = tf.getBackend();
  tf.setBackend("cpu");
  try {
    return tf.tidy(() => {
      const axes = shape.slice(0, -1).map((_, i) => i);
      const r = tf.moments(tf.tensor(x, shape), axes);
      return {
        mean: r.mean.dataSync() as Float32Array,
        variance: r.variance.dataSync() as Float32Array,
      };
    });
  } finally {
    tf.setBackend(prev);
  }
}

const SHAPES: ReadonlyArray<number[]> = [
  [1],
  [5],
  [2, 3],
  [4, 4],
  [3, 2, 7],
  [2, 5, 5, 9],
  [8, 6, 6, 32],
  [3, 11, 11, 64],
];

describe("WiderMoments on wasm", () => {
  it("finds the SIMD module on the backend's own memory (not the fallback)", () => {
    const k = momentsFor(tf.backend() as BackendWasm);
    expect(k).toBeDefined();
    expect(momentsFor(tf.backend() as BackendWasm), "instantiated once, then cached").toBe(k);
  });

  it("is registered by initWasmTraining, equals the oracle bit for bit and tf.moments on cpu within float32 tolerance", () => {
    expect(tf.getBackend()).toBe("wasm");
    expect(tf.getKernel(momentsKernelName, "wasm")).toBeDefined();
    for (const shape of SHAPES) {
      const n = shape.reduce((a, b) => a * b, 1);
      const c = shape[shape.length - 1]!;
      for (const offset of [0, 50]) {
        const x = values(n + offset, n, offset);
        const want = oracle(x, n / c, c);
        const ref = cpuMoments(x, shape);
        tf.tidy(() => {
          const xt = tf.tensor(x, shape);
          const [mean, variance] = run(momentsKernelName, xt);
          expect(mean.shape).toEqual([c]);
          expect(variance.shape).toEqual([c]);
          expect(mean.dtype).toBe("float32");
          const m = mean.dataSync();
          const v = variance.dataSync();
          expectSameFloats(m, want.mean, `mean ${shape} +${offset}`);
          expectSameFloats(v, want.variance, `variance ${shape} +${offset}`);
          // tf.moments sums in float32: its error grows with the count and the mean's size.
          for (let j = 0; j < c; j++) {
            const scale = Math.abs(want.mean[j]!) + Math.sqrt(want.variance[j]!) + 1e-6;
            expect(Math.abs(m[j]! - ref.mean[j]!), `mean ${shape}`).toBeLessThanOrEqual(
              1e-5 * scale,
            );
            expect(Math.abs(v[j]! - ref.variance[j]!), `variance ${shape}`).toBeLessThanOrEqual(
              1e-4 * scale * scale,
            );
          }
          expectSameFloats(xt.dataSync(), x, "input unchanged");
        });
      }
    }
  });

  it("propagates special values as the oracle; rows 0 give NaN, 0 channels give empty outputs", () => {
    const x = values(7, 9 * 13, 0, true);
    const want = oracle(x, 9, 13);
    tf.tidy(() => {
      const [m, v] = run(momentsKernelName, tf.tensor(x, [9, 13]));
      expectSameFloats(m.dataSync(), want.mean, "mean with specials");
      expectSameFloats(v.dataSync(), want.variance, "variance with specials");
      expect(want.mean.some(Number.isNaN) && want.mean.some(Number.isFinite)).toBe(true);
      const [m0, v0] = run(momentsKernelName, tf.zeros([0, 3]));
      expect(Array.from(m0.dataSync()).every(Number.isNaN)).toBe(true);
      expect(Array.from(v0.dataSync()).every(Number.isNaN)).toBe(true);
      const [me, ve] = run(momentsKernelName, tf.zeros([4, 0]));
      expect(me.shape).toEqual([0]);
      expect(ve.shape).toEqual([0]);
    });
  });

  it("falls back to a JS loop with the same numbers where the module cannot run", () => {
    const name = "TestMomentsFallback";
    tf.registerKernel({
      kernelName: name,
      backendName: "wasm",
      kernelFunc: momentsWith(() => undefined),
    });
    try {
      for (const shape of [
        [3, 5],
        [2, 4, 4, 33],
        [6, 6, 32],
      ]) {
        const n = shape.reduce((a, b) => a * b, 1);
        const c = shape[shape.length - 1]!;
        const x = values(n, n, 3, true);
        const want = oracle(x, n / c, c);
        tf.tidy(() => {
          const [m, v] = run(name, tf.tensor(x, shape));
          expectSameFloats(m.dataSync(), want.mean, `fallback mean ${shape}`);
          expectSameFloats(v.dataSync(), want.variance, `fallback variance ${shape}`);
        });
      }
    } finally {
      tf.unregisterKernel(name, "wasm");
    }
  });

  it("refuses a non-float32 input or a scalar with a clear error", () => {
    const cases: ReadonlyArray<[tf.Tensor, RegExp, string]> = [
      [
        tf.tensor([1, 2, 3, 4], [2, 2], "int32"),
        /takes a float32 tensor, got int32; cast first/,
        "unsupported",
      ],
      [tf.scalar(1), /needs a channel axis \(rank >= 1\), got a scalar/, "shape"],
    ];
    for (const [x, message, kind] of cases) {
      let caught: unknown;
      try {
        run(momentsKernelName, x);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(WiderFailure);
      expect(isWiderError(caught) && caught._tag).toBe("BackendError");
      expect(isWiderError(caught) && caught.kind).toBe(kind);
      expect((caught as Error).message).toMatch(message);
      x.dispose();
    }
  });

  it("leaks neither tensors nor wasm heap over 500 calls", () => {
    const x = tf.tensor(values(5, 4 * 9 * 9 * 32), [4, 9, 9, 32]);
    tf.dispose(run(momentsKernelName, x));
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds(); // counts the scratch buffer too, were it kept
    const heap = wasmHeapBytes();
    for (let i = 0; i < 500; i++) tf.dispose(run(momentsKernelName, x));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
    expect(wasmHeapBytes()).toBe(heap);
    x.dispose();
  });
});
