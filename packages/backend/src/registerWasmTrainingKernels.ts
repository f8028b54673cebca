/**
 * Registers the training kernels on the `wasm` backend of @tensorflow/tfjs-backend-wasm
 * 4.22.0 (pinned exactly: the kernels use the backend's internals `dataIdMap`,
 * `makeOutput` and `typedArrayFromHeap`).
 */
import "@tensorflow/tfjs-backend-wasm";
import {
  getKernel,
  type KernelConfig,
  registerKernel,
  unregisterKernel,
} from "@tensorflow/tfjs-core";
import { conv2DBackpropFilterConfig, conv2DBackpropInputConfig } from "./conv2dGrad.js";
import { conv2DConfig, fusedConv2DConfig } from "./convForward.js";
import { castConfig, identityConfig } from "./dataSharing.js";
import {
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
} from "./depthwiseConv2dGrad.js";
import { fail } from "./errors.js";
import { sumConfig } from "./leadingSum.js";
import { batchMatMul } from "./matMul.js";
import { maxPoolGradConfig } from "./maxPoolGrad.js";
import { momentsConfig, momentsKernelName } from "./moments.js";
import {
  emaUpdateConfig,
  emaUpdateKernelName,
  swaUpdateConfig,
  swaUpdateKernelName,
} from "./runningMean.js";
import { untransposedFusedMatMul } from "./transposedMatMul.js";
import { unsortedSegmentSumConfig } from "./unsortedSegmentSum.js";
import { assertSupportedTfjs } from "./versions.js";
import { rememberOriginal } from "./wasmKernelCall.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Whether a kernel is new on wasm or replaces the wasm package's own, and why. */
export interface TrainingKernel {
  readonly kernelName: string;
  readonly change: "added" | "replaced";
  readonly why: string;
}

/** The kernels `registerWasmTrainingKernels` adds or replaces on `wasm`, with the reason. */
export const wasmTrainingKernels: ReadonlyArray<TrainingKernel> = [
  {
    kernelName: "Conv2DBackpropFilter",
    change: "added",
    why: "missing (conv2d weight gradient); a small SIMD module on the backend's memory reading x and dy in place (patch-matrix GEMM, no packing); where it cannot run, a forward XNNPACK Conv2D on transposed tensors, dilation = stride",
  },
  {
    kernelName: "Conv2D",
    change: "replaced",
    why: "XNNPACK's implicit GEMM is slow for few input channels (the first layer of a CNN); a small SIMD module on the backend's memory reading x and the filter in place (1.2-1.7x on the CNN's layers) for filters up to 256 KB, XNNPACK above",
  },
  {
    kernelName: "FusedConv2D",
    change: "replaced",
    why: "as Conv2D (tfjs-layers' convolutions outside gradient tapes: evaluation, prediction, BatchNorm re-estimation), bias and relu applied in the module; other activations keep XNNPACK",
  },
  {
    kernelName: "Conv2DBackpropInput",
    change: "replaced",
    why: "naive loop; zero-insertion + reversed filter + forward XNNPACK Conv2D",
  },
  {
    kernelName: "DepthwiseConv2dNativeBackpropInput",
    change: "added",
    why: "missing; zero-insertion + reversed filter + forward depthwise conv + sum over multiplier",
  },
  {
    kernelName: "DepthwiseConv2dNativeBackpropFilter",
    change: "added",
    why: "missing; forward depthwise conv of the batch-as-channels input with dy as filter, sum over batch",
  },
  {
    kernelName: "UnsortedSegmentSum",
    change: "added",
    why: "missing (gradient of gather / embedding); loop over the wasm heap",
  },
  {
    kernelName: "MaxPoolGrad",
    change: "replaced",
    why: "slow, ties to the last maximum, wrong for even pools with same padding on odd inputs; a small SIMD module on the backend's memory, first maximum (a JS loop where it cannot run)",
  },
  {
    kernelName: "BatchMatMul",
    change: "replaced",
    why: "transposes and batches > 1 fall off XNNPACK onto a scalar loop, and every new b is packed as weights; a small SIMD module on the backend's memory reading both operands in place (no packing), except an untransposed b seen before (XNNPACK, packed once); where it cannot run, explicit Transpose, (BᵀAᵀ)ᵀ when packing Aᵀ is cheaper, batches folded or looped",
  },
  {
    kernelName: "_FusedMatMul",
    change: "replaced",
    why: "transposeA/B fall off XNNPACK onto a scalar loop, and b is packed every step; the BatchMatMul module, then bias Add and the activation; where it cannot run, explicit XNNPACK Transpose first; batch > 1 composed (the original returns wrong values)",
  },
  {
    kernelName: "Sum",
    change: "replaced",
    why: "sums over leading axes (bias gradients) transposed the whole tensor first; float64 column sums by the moments SIMD module on the backend's memory (a JS loop where it cannot run)",
  },
  {
    kernelName: "Identity",
    change: "replaced",
    why: "copied the whole buffer; shares it (reference-counted) like the cpu backend",
  },
  {
    kernelName: "Cast",
    change: "replaced",
    why: "same-dtype casts (relu gradients) copied the whole buffer; shares it",
  },
  {
    kernelName: swaUpdateKernelName,
    change: "added",
    why: "@wider/averaging's SWA update mean + (w - mean) / count is three elementwise passes; one pass of a small SIMD module on the backend's memory (the three kernels where it cannot run)",
  },
  {
    kernelName: emaUpdateKernelName,
    change: "added",
    why: "@wider/averaging's EMA update decay * mean + (1 - decay) * w is three elementwise passes; one pass of the same module",
  },
  {
    kernelName: momentsKernelName,
    change: "added",
    why: "@wider/averaging's BatchNorm re-estimation composes Sum, SquaredDifference, Sum (three passes, one writing a tensor as large as the activations); two read-only float64 SIMD passes of a small module on the backend's memory (a JS loop where it cannot run)",
  },
];

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const ownConfigs: ReadonlyArray<KernelConfig> = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  unsortedSegmentSumConfig,
  maxPoolGradConfig,
  swaUpdateConfig,
  emaUpdateConfig,
  momentsConfig,
];

/** Replaces `config`'s kernel on wasm (registering it when absent). */
function replace(config: KernelConfig): void {
  if (getKernel(config.kernelName, "wasm") !== undefined) {
    unregisterKernel(config.kernelName, "wasm");
  }
  registerKernel(config);
}

/** Replaces the wasm package's kernel `name` by `kernelFunc`, which may call the original. */
function wrapOriginal(name: string, kernelFunc: KernelConfig["kernelFunc"]): void {
  const original = getKernel(name, "wasm");
  if (original === undefined) {
    fail(
      "version",
      `@wider/backend: tfjs-backend-wasm has no '${name}' kernel; version mismatch?`,
      {
        path: name,
        fix: "install @tensorflow/tfjs-backend-wasm 4.22.0",
      },
    );
  }
  rememberOriginal(name, original.kernelFunc);
  const config: KernelConfig = { kernelName: name, backendName: "wasm", kernelFunc };
  // The original's setup (binding the C++ function) must still run at backend init.
  if (original.setupFunc !== undefined) config.setupFunc = original.setupFunc;
  replace(config);
}

let registered = false;

/**
 * Registers (or replaces) the training kernels listed in `wasmTrainingKernels` on the
 * `wasm` backend. Idempotent; call it before `tf.setBackend("wasm")`. Throws, naming the
 * installed and required versions, unless @tensorflow/tfjs-core and
 * @tensorflow/tfjs-backend-wasm are both exactly 4.22.0 (the kernels use the backend's internals).
 *
 * @example
 * registerWasmTrainingKernels();
 * await tf.setBackend("wasm");
 * await model.fit(xs, ys); // conv2d, depthwise, pooling, embedding all train
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  assertSupportedTfjs();
  wrapOriginal("BatchMatMul", batchMatMul);
  wrapOriginal("_FusedMatMul", untransposedFusedMatMul());
  for (const config of [sumConfig, identityConfig, castConfig, conv2DConfig, fusedConv2DConfig]) {
    wrapOriginal(config.kernelName, config.kernelFunc);
  }
  for (const config of ownConfigs) replace(config);
  registered = true;
}
