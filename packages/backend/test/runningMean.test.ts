/**
 * The running-mean kernels (`WiderSwaUpdate`, `WiderEmaUpdate`): the committed module matches
 * its .wat source; the SIMD module, the registered wasm kernels (which must really run the
 * module on the backend's memory) and their fallback through the wasm package's own kernels all
 * give exactly (bit for bit) the float32 numbers of the tensor rules they replace, computed by
 * the cpu backend's own kernels (the independent oracle), including tails (len % 4 != 0),
 * unaligned offsets, special values and an output whose allocation grows the memory; bad
 * operands are refused; nothing leaks.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { isWiderError, WiderFailure } from "@wider/errors";
import { beforeAll, describe, expect, it } from "vitest";
import { assembleRunningMean } from "../scripts/assembleWasm.js";
import {
  emaUpdateKernelName,
  initWasmTraining,
  swaUpdateKernelName,
  wasmHeapBytes,
} from "../src/index.js";
import {
  emaUpdateWith,
  instantiateRunningMean,
  runningMeanFor,
  runningMeanWasmBytes,
  swaUpdateWith,
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
        // The output region and 4 floats either side start as a sentinel; only len floats change.
        const poison = () => heap.fill(12345, base[2] / 4 - 4, base[2] / 4 + len + 4);
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
        const sentinel = new Float32Array(4).fill(12345);
        expect(new Float32Array(memory.buffer, base[2] + 4 * len, 4)).toEqual(sentinel);
        expect(new Float32Array(memory.buffer, base[2] - 16, 4)).toEqual(sentinel);
      }
    }
  });
});

describe("WiderSwaUpdate / WiderEmaUpdate on wasm", () => {
  const run = (name: string, mean: tf.Tensor, w: tf.Tensor, attrs: Attrs): tf.Tensor =>
    tf.engine().runKernel(name, { mean, w }, attrs) as tf.Tensor;

  it("find the SIMD module on the backend's own memory (not the fallback)", () => {
    expect(runningMeanFor(tf.backend() as BackendWasm)).toBeDefined();
    // The registered kernels use the module whenever runningMeanFor finds it (their fallback
    // only runs when it returns undefined): on Node with tfjs-backend-wasm 4.22.0 it must.
    const k = runningMeanFor(tf.backend() as BackendWasm);
    expect(k).toBeDefined();
    expect(runningMeanFor(tf.backend() as BackendWasm), "instantiated once, then cached").toBe(k);
  });

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

  it("stay exact when allocating the output grows the wasm memory", () => {
    // Inputs as large as the whole heap so far: the output cannot fit without growing it.
    const len = Math.ceil(wasmHeapBytes()! / 4) + 7;
    const mean = values(91, len);
    const w = values(92, len);
    tf.tidy(() => {
      const m = tf.tensor1d(mean);
      const x = tf.tensor1d(w);
      const before = wasmHeapBytes()!;
      const s = run(swaUpdateKernelName, m, x, { count: 7 });
      expect(wasmHeapBytes()!, "the output allocation grew the memory").toBeGreaterThan(before);
      expectSameFloats(
        s.dataSync() as Float32Array,
        cpuRule("swa", mean, w, 7),
        "swa after growth",
      );
    });
  });

  it("fall back to the backend's own kernels, with the same numbers, where the module cannot run", () => {
    // The kernels as registered, but told the module is unavailable (a threaded build, no SIMD).
    const names = { swa: "TestSwaUpdateFallback", ema: "TestEmaUpdateFallback" } as const;
    tf.registerKernel({
      kernelName: names.swa,
      backendName: "wasm",
      kernelFunc: swaUpdateWith(() => undefined),
    });
    tf.registerKernel({
      kernelName: names.ema,
      backendName: "wasm",
      kernelFunc: emaUpdateWith(() => undefined),
    });
    try {
      for (const len of [0, 5, 1027]) {
        const mean = values(len + 5, len);
        const w = values(len + 505, len);
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          const m = tf.tensor1d(mean);
          const x = tf.tensor1d(w);
          const s = run(names.swa, m, x, { count: 7 });
          expectSameFloats(s.dataSync() as Float32Array, cpuRule("swa", mean, w, 7), `swa ${len}`);
          const e = run(names.ema, m, x, { decay: 0.9 });
          expectSameFloats(
            e.dataSync() as Float32Array,
            cpuRule("ema", mean, w, 0.9),
            `ema ${len}`,
          );
        });
        expect(tf.memory().numTensors).toBe(before);
      }
      // The fallback's intermediates are freed inside the kernel: the heap does not grow.
      const big = tf.randomNormal([50_000]);
      for (let i = 0; i < 5; i++) run(names.swa, big, big, { count: 2 }).dispose();
      const heap = wasmHeapBytes();
      for (let i = 0; i < 200; i++) run(names.ema, big, big, { decay: 0.5 }).dispose();
      expect(wasmHeapBytes()).toBe(heap);
      big.dispose();
    } finally {
      tf.unregisterKernel(names.swa, "wasm");
      tf.unregisterKernel(names.ema, "wasm");
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
      // Thrown in the one Wider shape, with the shared kinds.
      const kindOf = (f: () => unknown): unknown => {
        try {
          f();
        } catch (e) {
          expect(e).toBeInstanceOf(WiderFailure);
          expect(isWiderError(e) && e._tag).toBe("BackendError");
          return isWiderError(e) ? [e.kind, e.path] : undefined;
        }
        return "no throw";
      };
      expect(
        kindOf(() => run(swaUpdateKernelName, m, tf.zeros([3], "int32"), { count: 2 })),
      ).toEqual(["unsupported", undefined]);
      expect(kindOf(() => run(emaUpdateKernelName, m, tf.zeros([4]), { decay: 0.5 }))).toEqual([
        "shape",
        "w",
      ]);
      expect(kindOf(() => run(swaUpdateKernelName, m, tf.zeros([3]), {}))).toEqual([
        "config",
        "count",
      ]);
    });
  });

  // numTensors is the real leak check; the heap size (it only grows) catches a leak of the
  // intermediates or outputs large enough to make the allocator grow the memory.
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
