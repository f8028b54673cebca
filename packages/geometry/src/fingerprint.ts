/**
 * Plan identity: a SHA-256 over a plan's coordinates and the exact contents of its anchor
 * tensors, so a result file can be matched to the plan that produced it (pure TypeScript SHA-256, so it runs in browsers too).
 *
 * @module
 */
import { describePlan, type Plan, planTensors } from "./plans.js";
import { sha256 } from "./sha256.js";

/**
 * A hex SHA-256 identifying `plan`: its description (kind, points, anchors) and, for each tensor it
 * owns, role, key, shape, dtype and bytes. Equal for two plans built from the same inputs.
 * Reads every anchor tensor synchronously (a few model-sized copies).
 */
export const planFingerprint = (plan: Plan): string => {
  const h = sha256();
  h.update(JSON.stringify(describePlan(plan)));
  for (const [role, w] of Object.entries(planTensors(plan))) {
    for (const key of Object.keys(w).sort()) {
      const t = w[key]!;
      h.update(JSON.stringify([role, key, t.shape, t.dtype]));
      const data = t.dataSync();
      h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  }
  return h.digest();
};
