/**
 * JSON model specs: `{ "kind": <model>, ...its options }`, decoded with clear errors and built,
 * so CLIs and config files can name a model.
 *
 * @module spec
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import { chain, type Either, left, map, right } from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import type { Prepare } from "./definition.js";
import { invalidSpec, type ModelsError } from "./errors.js";
import {
  type PaperPreResNetOptions,
  preparePreResNet110,
  preparePreResNet164,
} from "./paper/preresnet.js";
import { prepareVgg16, prepareVgg16bn, type Vgg16Options } from "./paper/vgg16.js";
import { prepareWideResNet28x10, type WideResNetOptions } from "./paper/wideResNet.js";
import { type CnnOptions, prepareCnn } from "./small/cnn.js";
import { type MlpOptions, prepareMlp } from "./small/mlp.js";
import { type PreResNetOptions, preparePreResNet } from "./small/preresnet.js";
import { prepareVgg, type VggOptions } from "./small/vgg.js";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/** Every model kind a spec can name. */
export const modelKinds = [
  "mlp",
  "cnn",
  "vgg",
  "preresnet",
  "vgg16",
  "vgg16bn",
  "preresnet110",
  "preresnet164",
  "wrn28x10",
] as const;

/** A model kind. */
export type ModelKind = (typeof modelKinds)[number];

/**
 * A model spec: the kind and that model's options, e.g.
 * `{ "kind": "mlp", "hidden": [256, 128], "seed": 7 }` or `{ "kind": "wrn28x10", "classes": 100 }`.
 */
export type ModelSpec =
  | ({ readonly kind: "mlp" } & MlpOptions)
  | ({ readonly kind: "cnn" } & CnnOptions)
  | ({ readonly kind: "vgg" } & VggOptions)
  | ({ readonly kind: "preresnet" } & PreResNetOptions)
  | ({ readonly kind: "vgg16" | "vgg16bn" } & Vgg16Options)
  | ({ readonly kind: "preresnet110" | "preresnet164" } & PaperPreResNetOptions)
  | ({ readonly kind: "wrn28x10" } & WideResNetOptions);

const prepares: Readonly<Record<ModelKind, Prepare>> = {
  mlp: prepareMlp,
  cnn: prepareCnn,
  vgg: prepareVgg,
  preresnet: preparePreResNet,
  vgg16: prepareVgg16,
  vgg16bn: prepareVgg16bn,
  preresnet110: preparePreResNet110,
  preresnet164: preparePreResNet164,
  wrn28x10: prepareWideResNet28x10,
};

const isKind = (k: unknown): k is ModelKind =>
  typeof k === "string" && (modelKinds as readonly string[]).includes(k);

/** Checks a spec and returns its kind and builder. */
const prepare = (
  json: unknown,
  path: string,
): Either<ModelsError, { readonly spec: ModelSpec; readonly build: () => tfl.LayersModel }> => {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    return left(
      invalidSpec(path, `got ${JSON.stringify(json)}; expected an object like { "kind": "mlp" }`),
    );
  const kind = (json as { kind?: unknown }).kind;
  if (!isKind(kind))
    return left(
      invalidSpec(
        `${path}.kind`,
        `got ${JSON.stringify(kind)}; expected one of ${modelKinds.map((k) => `"${k}"`).join(", ")}`,
      ),
    );
  return pipe(
    prepares[kind](json, path, ["kind"]),
    map((build) => ({ spec: json as ModelSpec, build })),
  );
};

// -------------------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------------------

/**
 * Checks a JSON value as a {@link ModelSpec}: a known `kind`, no unknown option, every option of
 * the right type and the input large enough for the model; the error names the field, e.g.
 * `spec.hidden: got [512, 0]; expected a non-empty array of positive integers`.
 *
 * @example
 * decodeModelSpec(JSON.parse('{ "kind": "cnn", "batchNorm": true }')); // right({ kind: "cnn", ... })
 */
export const decodeModelSpec = (json: unknown): Either<ModelsError, ModelSpec> =>
  pipe(
    prepare(json, "spec"),
    map((p) => p.spec),
  );

/**
 * Builds the model a spec describes, seeded (default seed 1) and outputting logits; a bad spec is
 * a `Left` naming the field. The caller owns (and disposes) the model.
 *
 * @example
 * const model = buildModel({ kind: "preresnet164", classes: 100 }); // Either<ModelsError, LayersModel>
 */
export const buildModel = (spec: ModelSpec | unknown): Either<ModelsError, tfl.LayersModel> =>
  pipe(
    prepare(spec, "spec"),
    chain((p) => right(p.build())),
  );

/**
 * An io-ts codec for {@link ModelSpec}, for CLI config codecs (`t.type({ model: ModelSpecCodec })`);
 * its errors carry the same messages as {@link decodeModelSpec}.
 */
export const ModelSpecCodec = new t.Type<ModelSpec, ModelSpec, unknown>(
  "ModelSpec",
  (u): u is ModelSpec => decodeModelSpec(u)._tag === "Right",
  (u, c) => {
    const d = decodeModelSpec(u);
    return d._tag === "Right" ? t.success(d.right) : t.failure(u, c, d.left.message);
  },
  t.identity,
);
