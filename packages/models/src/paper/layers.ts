/**
 * Layer helpers shared by the paper's architectures, matching PyTorch's semantics where tfjs
 * differs by default.
 *
 * @module paper/layers
 */
import * as tfl from "@tensorflow/tfjs-layers";
import type { Initializer } from "../seeds.js";

/** A symbolic tensor of the functional API. */
export type Sym = tfl.SymbolicTensor;

/** Applies a layer to one symbolic tensor (or a list, for merges). */
export const apply = (layer: tfl.layers.Layer, x: Sym | Sym[]): Sym => layer.apply(x) as Sym;

/**
 * `nn.BatchNorm2d(c, momentum = m)`: tfjs' momentum is the weight of the old statistic
 * (`1 - m`), its epsilon is set to PyTorch's 1e-5 (tfjs defaults to 1e-3).
 */
export const batchNorm = (name: string, torchMomentum = 0.1): tfl.layers.Layer =>
  tfl.layers.batchNormalization({ name, momentum: 1 - torchMomentum, epsilon: 1e-5 });

/** A ReLU layer. */
export const relu = (name: string): tfl.layers.Layer =>
  tfl.layers.activation({ name, activation: "relu" });

/** Options of {@link conv}. */
export interface ConvSpec {
  readonly name: string;
  readonly filters: number;
  readonly kernel: 1 | 3;
  readonly stride: 1 | 2;
  readonly kernelInitializer: Initializer;
  /** Omitted: no bias (`bias=False`). */
  readonly biasInitializer?: Initializer;
}

/**
 * `nn.Conv2d(kernel, stride, padding = (kernel - 1) / 2)`. A strided 3x3 conv gets an explicit
 * symmetric `{name}_pad` (1 pixel each side) and `valid` padding, as PyTorch pads; tfjs' `same`
 * would pad only bottom/right and shift the sampling grid by one pixel.
 */
export const conv = (x: Sym, c: ConvSpec): Sym => {
  const padded = c.kernel === 3 && c.stride === 2;
  const input = padded
    ? apply(tfl.layers.zeroPadding2d({ name: `${c.name}_pad`, padding: 1 }), x)
    : x;
  return apply(
    tfl.layers.conv2d({
      name: c.name,
      filters: c.filters,
      kernelSize: c.kernel,
      strides: c.stride,
      padding: padded || c.kernel === 1 ? "valid" : "same",
      useBias: c.biasInitializer !== undefined,
      kernelInitializer: c.kernelInitializer,
      ...(c.biasInitializer === undefined ? {} : { biasInitializer: c.biasInitializer }),
    }),
    input,
  );
};
