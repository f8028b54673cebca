/**
 * `_FusedMatMul` with `transposeA`/`transposeB` on the wasm backend: tfjs-backend-wasm
 * 4.22.0 runs transposed operands through a scalar loop instead of XNNPACK. We transpose
 * explicitly with the XNNPACK `Transpose` kernel and call the original kernel without
 * transposes. The original also returns wrong values when the batch is larger than 1 (its
 * scalar loop indexes the bias by row-major output position); there we compose the
 * registered `BatchMatMul`, `Add` (bias) and the activation kernel instead.
 *
 * Where the direct matmul module (src/matMul.ts) can run, float32 products go through it
 * (then `Add` and the activation kernel), as `BatchMatMul` does: XNNPACK's fused kernel packs `b`
 * again for every new tensor, which in training is every step. The path depends on the dtypes
 * alone, never on what ran before (XNNPACK adds the bias before the products, the module after:
 * a history-dependent choice would change the bits of a resumed run).
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type {
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from "@tensorflow/tfjs-core";
import { fail } from "./errors.js";
import { directMatMul, type MatMulModuleOf, matMulFor } from "./matMul.js";
import { callWasm, free, need, transposeInfo } from "./wasmKernelCall.js";

/** Swaps the last two axes of `x` (any rank >= 2). */
function swapLastTwo(backend: BackendWasm, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return transposeInfo(backend, x, perm);
}

/**
 * Wraps the `_FusedMatMul` kernel: float32 products by the direct module where `moduleOf` finds
 * it, then bias and activation; otherwise
 * transposed operands are transposed first and the original kernel runs untransposed on single
 * matrices.
 */
export function untransposedFusedMatMul(moduleOf: MatMulModuleOf = matMulFor): KernelFunc {
  const name = "_FusedMatMul";
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const a = need(inputs, "a");
    const b = need(inputs, "b");
    const { transposeA, transposeB } = (attrs ?? {}) as {
      transposeA?: boolean;
      transposeB?: boolean;
    };
    const mod = a.dtype === "float32" && b.dtype === "float32" ? moduleOf(wasm) : undefined;
    if (mod !== undefined) {
      const product = directMatMul(wasm, a, b, transposeA === true, transposeB === true, mod);
      return biasAndActivation(wasm, product, inputs, attrs ?? {});
    }
    if (!transposeA && !transposeB && batchOf(a) === 1 && batchOf(b) === 1) {
      return callWasm(wasm, name, inputs, attrs ?? {}, true);
    }
    const owned: TensorInfo[] = [];
    const a2 = transposeA ? swapLastTwo(wasm, a) : a;
    const b2 = transposeB ? swapLastTwo(wasm, b) : b;
    if (transposeA) owned.push(a2);
    if (transposeB) owned.push(b2);
    const newInputs: NamedTensorInfoMap = { ...inputs, a: a2, b: b2 };
    const newAttrs: NamedAttrMap = { ...(attrs ?? {}), transposeA: false, transposeB: false };
    try {
      return batchOf(a2) > 1 || batchOf(b2) > 1
        ? callFusedBatched(wasm, newInputs, newAttrs)
        : callWasm(wasm, name, newInputs, newAttrs, true);
    } finally {
      free(wasm, ...owned);
    }
  };
}

/** The product of the batch (all but the last two) dimensions. */
function batchOf(x: TensorInfo): number {
  return x.shape.slice(0, -2).reduce((p, q) => p * q, 1);
}

/** Activation kernels of `_FusedMatMul`'s `activation` attribute. */
function activate(
  backend: BackendWasm,
  x: TensorInfo,
  activation: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
): TensorInfo {
  switch (activation) {
    case "linear":
      return callWasm(backend, "Identity", { x });
    case "relu":
      return callWasm(backend, "Relu", { x });
    case "relu6":
      return callWasm(backend, "Relu6", { x });
    case "sigmoid":
      return callWasm(backend, "Sigmoid", { x });
    case "elu":
      return callWasm(backend, "Elu", { x });
    case "leakyrelu":
      return callWasm(
        backend,
        "LeakyRelu",
        { x },
        { alpha: (attrs.leakyreluAlpha as number) ?? 0.2 },
      );
    case "prelu":
      return callWasm(backend, "Prelu", { x, alpha: need(inputs, "preluActivationWeights") });
    default:
      fail(
        "unsupported",
        `@wider/backend: _FusedMatMul activation '${activation}' is not supported on wasm.`,
        { path: "activation", value: activation },
      );
  }
}

/** `_FusedMatMul` for batched operands, untransposed: BatchMatMul, bias Add, activation. */
function callFusedBatched(
  backend: BackendWasm,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
): TensorInfo {
  const product = callWasm(
    backend,
    "BatchMatMul",
    { a: need(inputs, "a"), b: need(inputs, "b") },
    { transposeA: false, transposeB: false },
  );
  return biasAndActivation(backend, product, inputs, attrs);
}

/** `product` + bias (when given), then the activation; frees `product`. */
function biasAndActivation(
  backend: BackendWasm,
  product: TensorInfo,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
): TensorInfo {
  const bias = inputs.bias;
  let biased = product;
  if (bias !== undefined && bias !== null) {
    biased = callWasm(backend, "Add", { a: product, b: bias });
    free(backend, product);
  }
  const out = activate(backend, biased, String(attrs.activation ?? "linear"), inputs, attrs);
  free(backend, biased);
  return out;
}
