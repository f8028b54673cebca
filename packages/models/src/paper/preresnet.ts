/**
 * PreResNet-110 and PreResNet-164 as in the SWA authors' `models/preresnet.py`. Their rule: a
 * depth of 44 or more uses the bottleneck block (1x1, 3x3, 1x1 convs, expansion 4, each conv
 * preceded by BN-ReLU) with `(depth - 2) / 9` blocks per stage, so both paper depths are
 * bottleneck networks: 12 blocks per stage for 110, 18 for 164 (the basic-block PreResNet-110 of
 * He et al. is a different, larger network). Stages of 16/32/64 planes (outputs 64/128/256),
 * stride 2 on the 3x3 conv of the first block of stages 2 and 3, a 1x1 projection of the raw
 * block input when the shape changes, convs without bias, final BN-ReLU, average pool, logits.
 *
 * @module paperPreResNet
 */

import * as tfl from "@tensorflow/tfjs-layers";
import { orThrow } from "@wider/errors";
import { map } from "fp-ts/lib/Either.js";
import type { Prepare } from "../definition.js";
import {
  type Common,
  type CommonOptions,
  commonProps,
  decodeOptions,
  resolveCommon,
} from "../options.js";
import { Seeds } from "../seeds.js";
import { apply, batchNorm, conv, relu, type Sym } from "./layers.js";
import { paperDefaults } from "./vgg16.js";

/** Options of {@link preresnet110} and {@link preresnet164}. */
export type PaperPreResNetOptions = CommonOptions;

const props = commonProps;

const build = (depth: 110 | 164, r: Common): tfl.LayersModel => {
  const seeds = new Seeds(r.seed);
  const blocks = (depth - 2) / 9;
  const input = tfl.input({ shape: [...r.inputShape], name: "image" });
  const he = (kernel: number, filters: number) => seeds.convFanOut(kernel, filters);
  let x: Sym = conv(input, {
    name: "conv1",
    filters: 16,
    kernel: 3,
    stride: 1,
    kernelInitializer: he(3, 16),
  });
  let channels = 16;
  [16, 32, 64].forEach((planes, s) => {
    const out = planes * 4;
    for (let j = 0; j < blocks; j++) {
      const p = `stage${s + 1}_block${j + 1}`;
      const stride = s > 0 && j === 0 ? 2 : 1;
      let y = apply(relu(`${p}_relu1`), apply(batchNorm(`${p}_bn1`), x));
      y = conv(y, {
        name: `${p}_conv1`,
        filters: planes,
        kernel: 1,
        stride: 1,
        kernelInitializer: he(1, planes),
      });
      y = apply(relu(`${p}_relu2`), apply(batchNorm(`${p}_bn2`), y));
      y = conv(y, {
        name: `${p}_conv2`,
        filters: planes,
        kernel: 3,
        stride,
        kernelInitializer: he(3, planes),
      });
      y = apply(relu(`${p}_relu3`), apply(batchNorm(`${p}_bn3`), y));
      y = conv(y, {
        name: `${p}_conv3`,
        filters: out,
        kernel: 1,
        stride: 1,
        kernelInitializer: he(1, out),
      });
      const shortcut =
        stride === 1 && channels === out
          ? x
          : conv(x, {
              name: `${p}_downsample`,
              filters: out,
              kernel: 1,
              stride,
              kernelInitializer: he(1, out),
            });
      x = apply(tfl.layers.add({ name: `${p}_add` }), [y, shortcut]);
      channels = out;
    }
  });
  x = apply(relu("final_relu"), apply(batchNorm("final_bn"), x));
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
  return tfl.model({ name: `preresnet${depth}`, inputs: input, outputs: logits });
};

const prepare =
  (depth: 110 | 164): Prepare =>
  (input, path, ignore) =>
    map((o: CommonOptions) => () => build(depth, resolveCommon(o, paperDefaults)))(
      decodeOptions(props, input, path, ignore),
    );

/** @internal The spec entry of `preresnet110`. */
export const preparePreResNet110 = prepare(110);
/** @internal The spec entry of `preresnet164`. */
export const preparePreResNet164 = prepare(164);

/**
 * The SWA authors' PreResNet-110: bottleneck blocks, 12 per stage (1.15 M parameters at 10
 * classes). Layers `conv1`, `stage{s}_block{j}_{bn1,relu1,conv1,bn2,relu2,conv2,bn3,relu3,conv3}`,
 * `_downsample` (first block of a stage), `_add`, `final_bn`, `final_relu`, `pool`, `logits`.
 * Init as the authors': conv N(0, 2 / (k * k * filters)), BN gamma 1 / beta 0 (PyTorch momentum
 * 0.1, epsilon 1e-5), logits PyTorch's default U(+-1/sqrt(fanIn)). Global average pooling stands
 * for `AvgPool2d(8)` (the same on 32x32 inputs). Throws on invalid options; the caller disposes.
 *
 * @example
 * const model = preresnet110({ classes: 100 });
 * model.dispose();
 */
export const preresnet110 = (options: PaperPreResNetOptions = {}): tfl.LayersModel =>
  build(
    110,
    resolveCommon(orThrow(decodeOptions(props, options, "preresnet110 options")), paperDefaults),
  );

/**
 * The SWA paper's PreResNet-164: bottleneck blocks, 18 per stage (1.70 M parameters at 10
 * classes); otherwise as {@link preresnet110}.
 *
 * @example
 * const model = preresnet164({ classes: 100, seed: 2 });
 * model.dispose();
 */
export const preresnet164 = (options: PaperPreResNetOptions = {}): tfl.LayersModel =>
  build(
    164,
    resolveCommon(orThrow(decodeOptions(props, options, "preresnet164 options")), paperDefaults),
  );
