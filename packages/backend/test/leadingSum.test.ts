/**
 * `Sum` over leading axes (the bias gradients) on wasm: the moments module's `columnSums` on a
 * memory of its own, the registered `Sum` kernel (which must really run the module on the
 * backend's memory) and its JS-loop fallback all equal, bit for bit, an independent float64
 * oracle written here (per column: the float64 sum of the values in row order, rounded to
 * float32 once), at column counts around the 4-lane loop (tails), 4-byte (not 16-byte) offsets,
 * special values, rows 0 and 1; and equal `tf.sum` on the cpu backend bit for bit (it also adds
 * the rows in order into a float64 number). Neither tensors nor wasm heap leak.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, it } from "vitest";
import { initWasmTraining, wasmHeapBytes } from "../src/index.js";
import { columnSumsLoop, leadingAxes, sum, sumWith } from "../src/leadingSum.js";
import { instantiateMoments, type MomentsExports, momentsFor } from "../src/moments.js";
import { expectSameFloats, normals, rng } from "./helpers.js";

beforeAll(async () => {
  await initWasmTraining();
});

/** The oracle: per column, a plain float64 sum over the rows in order, rounded once. */
function oracle(x: Float32Array, rows: number, c: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < c; j++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += x[r * c + j] as number;
    out.push(Math.fround(s));
  }
  return out;
}

/** Seeded values around `offset`, with the awkward ones mixed in when `special` is set. */
function values(seed: number, n: number, offset = 0, special = false): Float32Array {
  const out = normals(rng(seed), n);
  for (let i = 0; i < n; i++) out[i] = (out[i] as number) + offset;
  if (special) {
    const s = [0, -0, Infinity, -Infinity, Number.NaN, 1e-40, 3e38, -1e-30];
    for (let i = 0; i < n; i += 29) out[i] = s[(i / 29 + seed) % s.length] as number;
  }
  return out;
}

/** `[rows, columns]` cases: column counts around the 4-lane loop, the CNN's 32, 64 and 128. */
const CASES: ReadonlyArray<readonly [number, number]> = [
  [0, 3],
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
  [11, 128],
];

describe("columnSums (moments module, pass 1)", () => {
  it("equals the float64 oracle bit for bit at any column count and 4-byte offset", () => {
    const memory = new WebAssembly.Memory({ initial: 2 });
    const k = instantiateMoments(memory);
    expect(k, "Node 20 supports WebAssembly SIMD").toBeDefined();
    for (const [rows, c] of CASES) {
      for (const shift of [0, 1, 3]) {
        const x = values(rows * 100 + c + shift, rows * c, shift === 3 ? 1000 : 0, shift === 1);
        const at = { x: 64 + 4 * shift, acc: 60000 + 4 * shift, out: 80000 + 4 * shift };
        const heap = new Float32Array(memory.buffer);
        heap.set(x, at.x / 4);
        heap.fill(12345, at.acc / 4 - 4, at.acc / 4 + 2 * c + 4); // garbage scratch
        heap.fill(12345, at.out / 4 - 4, at.out / 4 + c + 4);
        k!.columnSums(at.x, rows, c, at.acc, at.out);
        const label = `rows ${rows} c ${c} shift ${shift}`;
        expectSameFloats(new Float32Array(memory.buffer, at.out, c), oracle(x, rows, c), label);
        expectSameFloats(new Float32Array(memory.buffer, at.x, rows * c), x, `x ${label}`);
        const sentinel = Array(4).fill(12345);
        expect(Array.from(new Float32Array(memory.buffer, at.out - 16, 4)), label).toEqual(
          sentinel,
        );
        expect(Array.from(new Float32Array(memory.buffer, at.out + 4 * c, 4)), label).toEqual(
          sentinel,
        );
        // c float64 of scratch, nothing past it
        expect(Array.from(new Float32Array(memory.buffer, at.acc + 8 * c, 4)), label).toEqual(
          sentinel,
        );
      }
    }
  });

  it("the JS fallback loop equals the oracle bit for bit", () => {
    for (const [rows, c] of CASES) {
      const x = values(rows + 7 * c, rows * c, 0, true);
      const out = new Float32Array(c);
      columnSumsLoop(x, rows, c, out);
      expectSameFloats(out, oracle(x, rows, c), `loop rows ${rows} c ${c}`);
    }
  });
});

/** Runs `name` (a Sum kernel) on wasm. */
const runSum = (name: string, x: tf.Tensor, axis: number[], keepDims: boolean): tf.Tensor =>
  tf.engine().runKernel(name, { x }, { axis, keepDims }) as tf.Tensor;

/** `tf.sum` on the cpu backend (a float64 accumulator per output, rounded once). */
function cpuSum(x: Float32Array, shape: number[], axis: number[], keepDims: boolean): Float32Array {
  const prev = tf.getBackend();
  tf.setBackend("cpu");
  try {
    return tf.tidy(() => tf.sum(tf.tensor(x, shape), axis, keepDims).dataSync() as Float32Array);
  } finally {
    tf.setBackend(prev);
  }
}

/** Shapes and the leading axes reduced (as tfjs passes them: any order, negative allowed). */
const SHAPES: ReadonlyArray<readonly [number[], number[], boolean]> = [
  [[5, 3], [0], false],
  [[7, 1], [0], true],
  [[2, 3, 4], [1, 0], false],
  [[4, 4, 5], [-3, -2], true],
  [[3, 5, 5, 7], [0, 1, 2], false],
  [[8, 6, 6, 32], [0, 1, 2], false],
  [[3, 11, 11, 64], [2, 1, 0], true],
  [[128, 128], [0], false],
  [[4, 9, 10], [0], false],
];

describe("Sum over leading axes on wasm", () => {
  it("is the registered Sum and finds the module on the backend's own memory", () => {
    expect(tf.getBackend()).toBe("wasm");
    expect(tf.getKernel("Sum", "wasm")?.kernelFunc).toBe(sum);
    const k = momentsFor(tf.backend() as BackendWasm);
    expect(typeof k?.columnSums).toBe("function");
    expect(leadingAxes([2, 0, 1], 4)).toBe(3);
    expect(leadingAxes([1], 3)).toBe(-1);
    expect(leadingAxes([0, 1, 2], 3), "a full reduction goes to the original").toBe(-1);
  });

  it("runs the module and equals the oracle, the JS fallback and tf.sum on cpu, bit for bit", () => {
    let calls = 0;
    const counting = (b: BackendWasm): MomentsExports | undefined => {
      const m = momentsFor(b);
      if (m === undefined) return undefined;
      return {
        ...m,
        columnSums: (...a) => {
          calls++;
          m.columnSums(...a);
        },
      };
    };
    const viaModule = "TestSumModule";
    const viaLoop = "TestSumFallback";
    tf.registerKernel({
      kernelName: viaModule,
      backendName: "wasm",
      kernelFunc: sumWith(counting),
    });
    tf.registerKernel({
      kernelName: viaLoop,
      backendName: "wasm",
      kernelFunc: sumWith(() => undefined),
    });
    try {
      for (const [shape, axis, keepDims] of SHAPES) {
        const n = shape.reduce((a, b) => a * b, 1);
        const k = axis.length;
        const rows = shape.slice(0, k).reduce((a, b) => a * b, 1);
        const inner = n / rows;
        const outShape = keepDims
          ? [...shape.slice(0, k).map(() => 1), ...shape.slice(k)]
          : shape.slice(k);
        for (const [offset, special] of [
          [0, false],
          [50, false],
          [0, true],
        ] as const) {
          const x = values(n + offset, n, offset, special);
          const want = oracle(x, rows, inner);
          const label = `${shape} axis ${axis} +${offset}${special ? " special" : ""}`;
          tf.tidy(() => {
            const xt = tf.tensor(x, shape);
            for (const name of ["Sum", viaModule, viaLoop]) {
              const out = runSum(name, xt, axis, keepDims);
              expect(out.shape, `${name} ${label}`).toEqual(outShape);
              expect(out.dtype).toBe("float32");
              expectSameFloats(out.dataSync(), want, `${name} ${label}`);
            }
            expectSameFloats(xt.dataSync(), x, "input unchanged");
          });
          // The cpu kernel transposes the reduced axes innermost and adds them in row order into
          // a JS number (float64): the same arithmetic, so the same bits.
          expectSameFloats(cpuSum(x, shape, axis, keepDims), want, `cpu ${label}`);
        }
      }
      expect(calls, "the kernel ran the module for every case").toBe(SHAPES.length * 3);
    } finally {
      tf.unregisterKernel(viaModule, "wasm");
      tf.unregisterKernel(viaLoop, "wasm");
    }
  });

  it("sums zero rows to zeros and keeps empty outputs empty; delegates other reductions", () => {
    tf.tidy(() => {
      const z = runSum("Sum", tf.zeros([0, 5]), [0], false);
      expect(z.shape).toEqual([5]);
      expectSameFloats(z.dataSync(), [0, 0, 0, 0, 0], "zero rows");
      const e = runSum("Sum", tf.zeros([3, 0]), [0], true);
      expect(e.shape).toEqual([1, 0]);
      const inner = runSum("Sum", tf.tensor([1, 2, 3, 4, 5, 6], [2, 3]), [1], false);
      expect(Array.from(inner.dataSync())).toEqual([6, 15]);
      const ints = runSum("Sum", tf.tensor([1, 2, 3, 4], [2, 2], "int32"), [0], false);
      expect(ints.dtype).toBe("int32");
      expect(Array.from(ints.dataSync())).toEqual([4, 6]);
    });
  });

  it("leaks neither tensors nor wasm heap over 500 calls (the scratch is freed)", () => {
    const x = tf.tensor(values(5, 4 * 9 * 9 * 32), [4, 9, 9, 32]);
    tf.dispose(runSum("Sum", x, [0, 1, 2], false));
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    const heap = wasmHeapBytes();
    for (let i = 0; i < 500; i++) tf.dispose(runSum("Sum", x, [0, 1, 2], i % 2 === 0));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
    expect(wasmHeapBytes()).toBe(heap);
    x.dispose();
  });
});
