/**
 * LOCAL STAND-IN for `selectBackend` of `@wider/backend` (TODO(@wider/backend): replace once the
 * package lands): `auto` tries `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`, then
 * `wasm`, then `cpu`. Without the package's training kernels, `wasm` cannot train convolutions,
 * so `auto` picks `cpu` for conv models here.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { AppError } from "../AppError.js";
import type { Config } from "../config.js";

/** The backend in use and why it was chosen. */
export interface BackendChoice {
  readonly name: string;
  readonly reason: string;
}

const tryNode = async (pkg: string): Promise<string | null> => {
  try {
    await import(pkg);
    return null;
  } catch (e) {
    return e instanceof Error ? (e.message.split("\n")[0] ?? "failed") : String(e);
  }
};

const setBackend = async (name: string): Promise<boolean> => {
  try {
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
    return tf.getBackend() === name;
  } catch {
    return false;
  }
};

/** Picks and activates a backend for `preference`; user-caused failures are {@link AppError}s. */
export const selectBackend = async (
  preference: Config["backend"],
  model: Config["model"],
): Promise<BackendChoice> => {
  await import("@tensorflow/tfjs");
  await import("@tensorflow/tfjs-backend-wasm");
  const nodeGpu = "@tensorflow/tfjs-node-gpu";
  const node = "@tensorflow/tfjs-node";
  if (preference === "tensorflow-gpu" || preference === "tensorflow") {
    const pkg = preference === "tensorflow-gpu" ? nodeGpu : node;
    const err = await tryNode(pkg);
    if (err !== null || !(await setBackend("tensorflow")))
      throw new AppError(
        `--backend ${preference}: ${pkg} is not installed or does not load (${err ?? "no tensorflow backend"}); install it with "pnpm add ${pkg}" or use --backend auto`,
        1,
      );
    return { name: "tensorflow", reason: `${pkg} requested` };
  }
  if (preference === "wasm" || preference === "cpu") {
    if (!(await setBackend(preference)))
      throw new AppError(`--backend ${preference}: the backend failed to initialise`, 1);
    return { name: preference, reason: "requested" };
  }
  for (const pkg of [nodeGpu, node]) {
    if ((await tryNode(pkg)) === null && (await setBackend("tensorflow")))
      return { name: "tensorflow", reason: `auto: ${pkg} is installed` };
  }
  if (model === "mlp" && (await setBackend("wasm")))
    return { name: "wasm", reason: "auto: no tfjs-node; wasm trains dense layers" };
  await setBackend("cpu");
  return {
    name: "cpu",
    reason: "auto: no tfjs-node; wasm lacks conv training kernels in this build",
  };
};
