import { checkNonNegativeInt, checkRate, checkStep, fail } from "./errors.js";
import type { Schedule } from "./Schedule.js";

/** Options of {@link swalr}: anneal from `from` to `to` over `annealSteps` steps. */
export interface SwalrOptions {
  /** The rate in force when SWALR starts (PyTorch: the optimizer's `lr` at construction). */
  readonly from: number;
  /** The SWA rate (PyTorch `swa_lr`). */
  readonly to: number;
  /** PyTorch `anneal_epochs`, counted in calls of this schedule's steps; an integer `>= 0`. */
  readonly annealSteps: number;
  /** PyTorch `anneal_strategy`: `"cos"` (default) or `"linear"`. */
  readonly strategy?: "cos" | "linear";
}

/**
 * PyTorch 1.13 `torch.optim.swa_utils.SWALR` values. Step `k` is the rate in force after `k`
 * calls of `scheduler.step()` (so the rate used for the k-th epoch/step of the SWA phase):
 * `a = f(min(1, k / annealSteps))`, `f_cos(t) = (1 - cos(pi t)) / 2`, `f_linear(t) = t`,
 * `lr = to * a + from * (1 - a)`. Step 0 gets `from` unchanged when `annealSteps > 0`
 * (PyTorch's constructor leaves the rate alone) and `to` from `annealSteps` on; with
 * `annealSteps = 0` every step, step 0 included, gets `to` (PyTorch's constructor already sets it).
 *
 * @example
 * const s = swalr({ from: 0.1, to: 0.05, annealSteps: 2, strategy: "linear" });
 * [0, 1, 2, 3].map(s) // [0.1, 0.075, 0.05, 0.05]
 */
export const swalr = ({ from, to, annealSteps, strategy = "cos" }: SwalrOptions): Schedule => {
  checkRate("swalr", "from", from);
  checkRate("swalr", "to", to);
  checkNonNegativeInt("swalr", "annealSteps", annealSteps);
  if (strategy !== "cos" && strategy !== "linear")
    fail("strategy", strategy, '"cos" or "linear"', "swalr");
  const anneal =
    strategy === "cos" ? (t: number) => (1 - Math.cos(Math.PI * t)) / 2 : (t: number) => t;
  return (step) => {
    checkStep("swalr", step);
    const t = annealSteps === 0 ? 1 : Math.min(1, step / annealSteps);
    const a = anneal(t);
    return to * a + from * (1 - a);
  };
};
