/**
 * Job identity: canonical JSON (object keys sorted, no whitespace) and its SHA-256, so equal
 * inputs give the same fingerprint whatever order their keys were written in.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** A JSON value. */
export type Json =
  | null
  | boolean
  | number
  | string
  | readonly Json[]
  | { readonly [k: string]: Json };

/**
 * JSON with object keys sorted at every level; `undefined` fields are dropped (as JSON.stringify
 * does). A non-finite number is refused (JSON cannot hold it, so two runs would not be told apart).
 *
 * @example
 * canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }) // '{"a":[2,{"c":4,"d":3}],"b":1}'
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value === "boolean" || typeof value === "string")
    return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value))
      throw new TypeError(`canonicalJson: ${value} is not a finite number; JSON cannot hold it`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new TypeError(`canonicalJson: a ${typeof value} is not JSON`);
};

/**
 * The hex SHA-256 of `canonicalJson(value)`: a job's identity, used as its BullMQ job id and as
 * the key of its result.
 *
 * @example
 * fingerprint({ kind: "run", config, seed: 0 }) // "3f9c…" (64 hex digits)
 */
export const fingerprint = (value: unknown): string =>
  createHash("sha256").update(canonicalJson(value)).digest("hex");
