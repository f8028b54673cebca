/**
 * JSON values as stored in a manifest: the {@link Json} type, its io-ts codec (which checks
 * values, so nothing is cast), and the canonical serialisation the manifest digest is taken over.
 *
 * @module
 */
import { raise } from "@wider/errors";
import * as t from "io-ts";
import { weightsError } from "./errors.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A JSON value, for user metadata stored in the manifest. */
export type Json =
  | null
  | boolean
  | number
  | string
  | readonly Json[]
  | { readonly [k: string]: Json };

/** How deeply arrays and objects may nest in stored metadata (deeper is refused, not crashed on). */
export const MAX_JSON_DEPTH = 64;

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

const child = (path: string, key: string | number): string =>
  typeof key === "number"
    ? `${path}[${key}]`
    : /^[A-Za-z_$][\w$]*$/.test(key)
      ? `${path}.${key}`
      : `${path}[${JSON.stringify(key)}]`;

/**
 * Why `value` is not a JSON value that survives `JSON.stringify` / `JSON.parse` unchanged, naming
 * the path (e.g. `metadata.loss is NaN`); `undefined` when it is one.
 *
 * @example
 * jsonProblem({ loss: Number.NaN }, "metadata") // "metadata.loss is NaN, which JSON cannot hold"
 */
export const jsonProblem = (value: unknown, path: string, depth = 0): string | undefined => {
  if (value === null || typeof value === "boolean" || typeof value === "string") return undefined;
  if (typeof value === "number") {
    return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON cannot hold`;
  }
  if (typeof value !== "object") return `${path} is ${typeof value}, which JSON cannot hold`;
  if (depth >= MAX_JSON_DEPTH) {
    return `${path} nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = jsonProblem(value[i], child(path, i), depth + 1);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  if (!isPlainObject(value)) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return `${path} is a ${typeof name === "string" ? name : "non-plain object"}, not a plain object; JSON cannot hold it`;
  }
  for (const k of Object.keys(value)) {
    const p = jsonProblem((value as Record<string, unknown>)[k], child(path, k), depth + 1);
    if (p !== undefined) return p;
  }
  return undefined;
};

/**
 * io-ts codec of {@link Json}: accepts exactly the values {@link jsonProblem} accepts and returns
 * the input itself (so keys such as `__proto__` are kept as own properties).
 */
export const Json: t.Type<Json, Json, unknown> = new t.Type<Json, Json, unknown>(
  "Json",
  (u): u is Json => jsonProblem(u, "$") === undefined,
  (u, c) => {
    const problem = jsonProblem(u, "$");
    return problem === undefined ? t.success(u as Json) : t.failure(u, c, problem);
  },
  t.identity,
);
// The cast above is checked: jsonProblem(u) === undefined is exactly "u is Json".

/** Throws the `config` error of a value {@link canonicalJson} cannot write (a programmer's mistake). */
function notJson(message: string, value: unknown): never {
  return raise(
    weightsError("config", message, {
      value,
      fix: "pass plain JSON (finite numbers, strings, booleans, null, arrays, plain objects)",
    }),
  );
}

/**
 * The canonical text of a JSON value: object keys sorted (by UTF-16 code unit), no whitespace,
 * strings and numbers as `JSON.stringify` writes them. Two values are equal as JSON exactly when
 * their canonical texts are equal. Throws on non-JSON input or nesting beyond `maxDepth`.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export const canonicalJson = (value: unknown, maxDepth = MAX_JSON_DEPTH + 4): string => {
  const go = (v: unknown, depth: number): string => {
    if (v === null || typeof v === "boolean" || typeof v === "string") return JSON.stringify(v);
    if (typeof v === "number") {
      if (!Number.isFinite(v)) notJson(`canonicalJson: ${v} is not a JSON number`, v);
      return JSON.stringify(v);
    }
    if (typeof v !== "object") notJson(`canonicalJson: a ${typeof v} is not JSON`, v);
    if (depth > maxDepth) notJson(`canonicalJson: nested deeper than ${maxDepth}`, undefined);
    if (Array.isArray(v)) return `[${v.map((x) => go(x, depth + 1)).join(",")}]`;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${go(o[k], depth + 1)}`).join(",")}}`;
  };
  return go(value, 0);
};
