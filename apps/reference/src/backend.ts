/**
 * Backend choice for a run, through `@wider/backend`'s `selectBackend`: `auto` takes
 * `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node` when installed, else `wasm` with the
 * package's training kernels, else `cpu`. A preference that cannot start is an {@link AppError}
 * naming the install fix.
 *
 * @module
 */
import { selectBackend } from "@wider/backend";
import * as E from "fp-ts/lib/Either.js";
import { AppError } from "./AppError.js";
import type { Config } from "./config.js";

/** The backend in use, why, and what else was tried (for the report). */
export interface BackendInfo {
  /** The TensorFlow.js backend name now active: `tensorflow`, `wasm` or `cpu`. */
  readonly name: string;
  /** The candidate that won (`tensorflow-gpu` and `tensorflow` both run as `tensorflow`). */
  readonly candidate: string;
  readonly reason: string;
  readonly tried: ReadonlyArray<{
    readonly candidate: string;
    readonly ok: boolean;
    readonly reason: string;
  }>;
}

/**
 * Selections in progress in this process, per preference: a worker process that gets several
 * jobs at once (plane points) must not run two selections concurrently (a job could evaluate on
 * a backend another job's selection is still initialising); later calls select again (a no-op
 * for the active backend), so a caller that switched backends in between gets the one it asks for.
 */
const inFlight = new Map<string, Promise<BackendInfo>>();

/** Activates the backend for `preference`. */
export const chooseBackend = (preference: Config["backend"]): Promise<BackendInfo> => {
  const running = inFlight.get(preference);
  if (running !== undefined) return running;
  const p = select(preference).finally(() => inFlight.delete(preference));
  inFlight.set(preference, p);
  return p;
};

const select = async (preference: Config["backend"]): Promise<BackendInfo> => {
  const r = await selectBackend(preference);
  if (E.isLeft(r)) throw new AppError(`--backend ${preference}: ${r.left.message}`, 1);
  const c = r.right;
  return {
    name: c.backend,
    candidate: c.candidate,
    reason: c.reason,
    tried: c.tried.map((t) => ({ ...t })),
  };
};
