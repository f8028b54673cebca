/**
 * `@wider/models`: seeded TensorFlow.js models that output logits. Small models for CPU/wasm
 * experiments (`mlp`, `cnn`, `vgg`, `preresnet`) and the SWA paper's CIFAR architectures
 * (`vgg16`, `vgg16bn`, `preresnet110`, `preresnet164`, `wideResNet28x10`), with parameter counts
 * checked against PyTorch; `buildModel` builds any of them from a JSON spec.
 *
 * Errors: a bad JSON spec is a `Left<ModelsError>` (kind `config`); bad options of a typed
 * builder throw a `WiderFailure` with the same fields (see the README's "Errors" section).
 *
 * @packageDocumentation
 */

// errors
export type { ModelsError } from "./errors.js";
export { invalidSpec, modelsError } from "./errors.js";
// inspection and seeds
export type { ParameterCounts } from "./inspect.js";
export { hasBatchNorm, parameterCounts } from "./inspect.js";
// small models
export type { CommonOptions } from "./options.js";
// the paper's models
export type { PaperPreResNetOptions } from "./paper/preresnet.js";
export { preresnet110, preresnet164 } from "./paper/preresnet.js";
export type { Vgg16Options } from "./paper/vgg16.js";
export { paperDefaults, vgg16, vgg16bn } from "./paper/vgg16.js";
export type { WideResNetOptions } from "./paper/wideResNet.js";
export { wideResNet28x10 } from "./paper/wideResNet.js";
export { maxSeed } from "./seeds.js";
export type { CnnOptions } from "./small/cnn.js";
export { cnn, cnnDefaults } from "./small/cnn.js";
export type { MlpOptions } from "./small/mlp.js";
export { mlp, mlpDefaults } from "./small/mlp.js";
export type { PreResNetOptions } from "./small/preresnet.js";
export { preresnet, preresnetDefaults } from "./small/preresnet.js";
export type { VggOptions } from "./small/vgg.js";
export { vgg, vggDefaults } from "./small/vgg.js";
// specs
export type { ModelKind, ModelSpec } from "./spec.js";
export { buildModel, decodeModelSpec, ModelSpecCodec, modelKinds } from "./spec.js";
