/**
 * The running-mean kernels (`WiderSwaUpdate`, `WiderEmaUpdate`): the committed module matches
 * its .wat source; the SIMD module, its JavaScript fallback and the registered wasm kernels all
 * give exactly (bit for bit) the float32 numbers of the tensor rules they replace, computed by
 * the cpu backend's own kernels (the independent oracle), including tails (len % 4 != 0),
 * unaligned offsets and special values; bad operands are refused; nothing leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { assembleRunningMean } from "../scripts/assembleWasm.js";
import {
  emaUpdateKernelName,
  initWasmTraining,
  swaUpdateKernelName,
  wasmHeapBytes,
} from "../src/index.js";
import {
  emaUpdateJs,
  instantiateRunningMean,
  runningMeanWasmBytes,
  swaUpdateJs,
} from "../src/runningMean.js";
import { normals, rng } from "./helpers.js";

beforeAll(async () => {
  await initWasmTraining();
});

type Attrs = Parameters<ReturnType<typeof tf.engine>["runKernel"]>[2];

/** Seeded values with the awkward ones mixed in: ±0, ±Inf, NaN, subnormals, huge, tiny. */
function values(seed: number, n: number): Float32Array {
  const out = normals(rng(seed), n);
  const special = [0, -0, Infinity, -Infinity, Number.NaN, 1e-40, -3e-39, 3e38, -1e-30, 7];
  for (let i = 0; i < n; i += 7) out[i] = special[(i / 7 + seed) % special.length] as number;
  return out;
}

/** The tensor rule on the cpu backend (each op is one tfjs-cpu kernel rounding to float32). */
function cpuRule(
  rule: "swa" | "ema",
  mean: Float32Array,
  w: Float32Array,
  param: number,
): Float32Array {
  const prev = tf.getBackend();
  tf.setBackend("cpu");
  try {
    return tf.tidy(() => {
      const m = tf.tensor1d(mean);
      const x = tf.tensor1d(w);
      const r =
        rule === "swa"
          ? tf.add(m, tf.div(tf.sub(x, m), param))
          : tf.add(tf.mul(m, param), tf.mul(x, 1 - param));
      return r.dataSync() as Float32Array;
    });
  } finally {
    tf.setBackend(prev);
  }
}

/** Bitwise equality that treats every NaN as equal (as float32 payloads may differ). */
function expectSameFloats(got: Float32Array, want: Float32Array, label: string): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as number;
    const v = want[i] as number;
    if (Number.isNaN(v) && Number.isNaN(g)) continue;
    if (!Object.is(g, v)) expect.fail(`${label}: element ${i} is ${g}, expected ${v}`);
  }
}

const LENGTHS = [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 1027];

describe("running-mean module", () => {
  it("the committed bytes are the assembled wasm/runningMean.wat (run build:wasm after editing it)", async () => {
    expect(
      Buffer.from(runningMeanWasmBytes()).equals(Buffer.from(await assembleRunningMean())),
    ).toBe(true);
  });

  it("swa and ema equal the cpu tensor rules bit for bit, at any length and 4-byte offset", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const k = instantiateRunningMean(memory);
    expect(k, "Node 20 supports WebAssembly SIMD").toBeDefined();
    for (const len of LENGTHS) {
      for (const shift of [0, 1, 3]) {
        const mean = values(len + 1, len);
        const w = values(len + 101, len);
        // Three buffers at byte offsets that are multiples of 4 but, with shift, not of 16.
        const base = [64 + 4 * shift, 8192 + 4 * shift, 16384 + 4 * shift] as const;
        const heap = new Float32Array(memory.buffer);
        heap.set(mean, base[0] / 4);
        heap.set(w, base[1] / 4);
        // The output region and 4 floats past it start as a sentinel; only len floats may change.
        const poison = () => heap.fill(12345, base[2] / 4, base[2] / 4 + len + 4);
        const read = () => new Float32Array(memory.buffer, base[2], len).slice();
        for (const count of [2, 3, 7, 1001]) {
          poison();
          k!.swa(base[0], base[1], base[2], len, count);
          expectSameFloats(read(), cpuRule("swa", mean, w, count), `swa len ${len} count ${count}`);
        }
        for (const decay of [0, 0.5, 0.999, 1 / 3, 1]) {
          poison();
          k!.ema(base[0], base[1], base[2], len, decay, 1 - decay);
          expectSameFloats(read(), cpuRule("ema", mean, w, decay), `ema len ${len} decay ${decay}`);
        }
        // Nothing beyond len is written.
        expect(new Float32Array(memory.buffer, base[2] + 4 * len, 4)).toEqual(
          new Float32Array(4).fill(12345),
        );
      }
    }
  });

  it("the JavaScript fallbacks equal the cpu tensor rules bit for bit", () => {
    for (const len of LENGTHS) {
      const mean = values(len + 2, len);
      const w = values(len + 202, len);
      const out = new Float32Array(len);
      swaUpdateJs(mean, w, out, 5);
      expectSameFloats(out, cpuRule("swa", mean, w, 5), `swa len ${len}`);
      emaUpdateJs(mean, w, out, 0.999);
      expectSameFloats(out, cpuRule("ema", mean, w, 0.999), `ema len ${len}`);
    }
  });
});

describe("WiderSwaUpdate / WiderEmaUpdate on wasm", () => {
  const run = (name: string, mean: tf.Tensor, w: tf.Tensor, attrs: Attrs): tf.Tensor =>
    tf.engine().runKernel(name, { mean, w }, attrs) as tf.Tensor;

  it("are registered by initWasmTraining and equal the cpu tensor rules bit for bit", () => {
    expect(tf.getBackend()).toBe("wasm");
    for (const shape of [[0], [1], [5], [3, 7], [1027], [4, 4, 2, 3]]) {
      const len = shape.reduce((a, b) => a * b, 1);
      const mean = values(len + 3, len);
      const w = values(len + 303, len);
      tf.tidy(() => {
        const m = tf.tensor(mean, shape);
        const x = tf.tensor(w, shape);
        const s = run(swaUpdateKernelName, m, x, { count: 4 });
        expect(s.shape).toEqual(shape);
        expect(s.dtype).toBe("float32");
        expectSameFloats(s.dataSync() as Float32Array, cpuRule("swa", mean, w, 4), `swa ${shape}`);
        const e = run(emaUpdateKernelName, m, x, { decay: 0.9 });
        expectSameFloats(
          e.dataSync() as Float32Array,
          cpuRule("ema", mean, w, 0.9),
          `ema ${shape}`,
        );
        // Inputs untouched.
        expectSameFloats(m.dataSync() as Float32Array, mean, "mean unchanged");
      });
    }
  });

  it("refuse non-float32, mismatched shapes and missing attrs with a clear error", () => {
    tf.tidy(() => {
      const m = tf.zeros([3]);
      expect(() => run(swaUpdateKernelName, m, tf.zeros([3], "int32"), { count: 2 })).toThrow(
        /float32.*cast first/,
      );
      expect(() => run(emaUpdateKernelName, m, tf.zeros([4]), { decay: 0.5 })).toThrow(
        /mean has shape \[3\] but w has \[4\]/,
      );
      expect(() => run(swaUpdateKernelName, m, tf.zeros([3]), {})).toThrow(/attr 'count'/);
    });
  });

  it("leak neither tensors nor heap over 1,000 updates of a 100k-float mean", () => {
    let mean = tf.randomNormal([100_003]);
    const w = tf.randomNormal([100_003]);
    const step = (i: number) => {
      const next =
        i % 2 === 0
          ? run(swaUpdateKernelName, mean, w, { count: i + 2 })
          : run(emaUpdateKernelName, mean, w, { decay: 0.99 });
      mean.dispose();
      mean = next;
    };
    for (let i = 0; i < 10; i++) step(i);
    const tensors = tf.memory().numTensors;
    const heap = wasmHeapBytes();
    for (let i = 0; i < 1000; i++) step(i);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(wasmHeapBytes()).toBe(heap);
    tf.dispose([mean, w]);
  });
});
