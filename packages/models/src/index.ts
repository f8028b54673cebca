/**
 * `@wider/models`: seeded TensorFlow.js models that output logits. Small models for CPU/wasm
 * experiments (`mlp`, `cnn`, `vgg`, `preresnet`) and the SWA paper's CIFAR architectures
 * (`vgg16`, `vgg16bn`, `preresnet110`, `preresnet164`, `wideResNet28x10`), with parameter counts
 * checked against PyTorch; `buildModel` builds any of them from a JSON spec.
 *
 * @packageDocumentation
 */
export { invalidSpec, type ModelsError } from "./errors.js";
export { hasBatchNorm, type ParameterCounts, parameterCounts } from "./inspect.js";
export type { CommonOptions } from "./options.js";
export { type PaperPreResNetOptions, preresnet110, preresnet164 } from "./paper/preresnet.js";
export { paperDefaults, type Vgg16Options, vgg16, vgg16bn } from "./paper/vgg16.js";
export { type WideResNetOptions, wideResNet28x10 } from "./paper/wideResNet.js";
export { maxSeed } from "./seeds.js";
export { type CnnOptions, cnn, cnnDefaults } from "./small/cnn.js";
export { type MlpOptions, mlp, mlpDefaults } from "./small/mlp.js";
export { type PreResNetOptions, preresnet, preresnetDefaults } from "./small/preresnet.js";
export { type VggOptions, vgg, vggDefaults } from "./small/vgg.js";
export {
  buildModel,
  decodeModelSpec,
  type ModelKind,
  type ModelSpec,
  ModelSpecCodec,
  modelKinds,
} from "./spec.js";
