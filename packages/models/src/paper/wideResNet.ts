/**
 * WideResNet-28-10 as in the SWA authors' `models/wide_resnet.py`: a 3x3 stem conv (16), three
 * stages of `(28 - 4) / 6 = 4` wide basic blocks of widths 160, 320, 640 (BN-ReLU-conv3x3,
 * optional dropout, BN-ReLU-conv3x3 with the stage's stride on this second conv), a 1x1
 * projection (with bias) of the raw block input when the shape changes, convs with bias, a final
 * BN-ReLU, average pool and logits.
 *
 * @module wideResNet
 */

import * as tfl from "@tensorflow/tfjs-layers";
import { orThrow } from "@wider/errors";
import { map } from "fp-ts/lib/Either.js";
import type { Prepare } from "../definition.js";
import {
  type Common,
  type CommonOptions,
  commonProps,
  DropoutRate,
  decodeOptions,
  resolveCommon,
} from "../options.js";
import { Seeds } from "../seeds.js";
import { apply, batchNorm, conv, relu, type Sym } from "./layers.js";
import { paperDefaults } from "./vgg16.js";

/** Options of {@link wideResNet28x10}. */
export interface WideResNetOptions extends CommonOptions {
  /** Dropout between the two convs of each block; default 0 (the authors' default: no layer). */
  readonly dropout?: number;
}

const props = { ...commonProps, dropout: DropoutRate };

const depth = 28;
const widen = 10;

const build = (r: Common, dropout: number): tfl.LayersModel => {
  const seeds = new Seeds(r.seed);
  const blocks = (depth - 4) / 6;
  // The authors define conv_init but never apply it: every conv and the logits layer keep
  // PyTorch's default U(+-1/sqrt(fanIn)) for weight and bias.
  const torchConv = (
    name: string,
    x: Sym,
    cin: number,
    filters: number,
    kernel: 1 | 3,
    stride: 1 | 2,
  ) =>
    conv(x, {
      name,
      filters,
      kernel,
      stride,
      kernelInitializer: seeds.torchDefault(cin * kernel * kernel),
      biasInitializer: seeds.torchDefault(cin * kernel * kernel),
    });
  const input = tfl.input({ shape: [...r.inputShape], name: "image" });
  let x = torchConv("conv1", input, r.inputShape[2], 16, 3, 1);
  let channels = 16;
  [16 * widen, 32 * widen, 64 * widen].forEach((width, s) => {
    for (let j = 0; j < blocks; j++) {
      const p = `stage${s + 1}_block${j + 1}`;
      const stride = s > 0 && j === 0 ? 2 : 1;
      let y = apply(relu(`${p}_relu1`), apply(batchNorm(`${p}_bn1`), x));
      y = torchConv(`${p}_conv1`, y, channels, width, 3, 1);
      if (dropout > 0) y = apply(tfl.layers.dropout({ name: `${p}_dropout`, rate: dropout }), y);
      y = apply(relu(`${p}_relu2`), apply(batchNorm(`${p}_bn2`), y));
      y = torchConv(`${p}_conv2`, y, width, width, 3, stride);
      const shortcut =
        stride === 1 && channels === width
          ? x
          : torchConv(`${p}_shortcut`, x, channels, width, 1, stride);
      x = apply(tfl.layers.add({ name: `${p}_add` }), [y, shortcut]);
      channels = width;
    }
  });
  // The authors' final BatchNorm2d has momentum=0.9 (PyTorch terms), i.e. tfjs momentum 0.1.
  x = apply(relu("final_relu"), apply(batchNorm("final_bn", 0.9), x));
  x = apply(tfl.layers.globalAveragePooling2d({ name: "pool" }), x);
  const logits = apply(
    tfl.layers.dense({
      name: "logits",
      units: r.classes,
      kernelInitializer: seeds.torchDefault(channels),
      biasInitializer: seeds.torchDefault(channels),
    }),
    x,
  );
  return tfl.model({ name: "wrn28x10", inputs: input, outputs: logits });
};

/** @internal The spec entry of `wrn28x10`. */
export const prepareWideResNet28x10: Prepare = (input, path, ignore) =>
  map((o: WideResNetOptions) => () => build(resolveCommon(o, paperDefaults), o.dropout ?? 0))(
    decodeOptions(props, input, path, ignore),
  );

/**
 * The SWA paper's WideResNet-28-10 (36.5 M parameters at 10 classes). Layers `conv1`,
 * `stage{s}_block{j}_{bn1,relu1,conv1,[dropout],bn2,relu2,conv2}`, `_shortcut` (first block of a
 * stage), `_add`, `final_bn`, `final_relu`, `pool`, `logits`. BN: PyTorch momentum 0.1 (0.9 for
 * `final_bn`, as the authors), epsilon 1e-5. Throws on invalid options; the caller disposes.
 *
 * @example
 * const model = wideResNet28x10({ classes: 100 });
 * model.dispose();
 */
export const wideResNet28x10 = (options: WideResNetOptions = {}): tfl.LayersModel => {
  const o = orThrow(decodeOptions(props, options, "wrn28x10 options"));
  return build(resolveCommon(o, paperDefaults), o.dropout ?? 0);
};
