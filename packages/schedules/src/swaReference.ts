import { checkPositive, checkPositiveInt, checkRate, checkStep, fail } from "./errors.js";
import type { Schedule } from "./Schedule.js";

/** The SWA form of {@link swaReference} (authors' `--swa`): decay to `swaLr` relative to `swaStart`. */
export interface SwaReferenceSwaOptions {
  /** Initial rate (`--lr_init`), finite and `> 0`. */
  readonly lrInit: number;
  /** SWA rate (`--swa_lr`), finite and `>= 0`. */
  readonly swaLr: number;
  /** Epoch SWA starts (`--swa_start`, may be fractional like the authors' float flag), `> 0`. */
  readonly swaStart: number;
  /** Training length (`--epochs`); not used by the SWA form's formula, checked if given. */
  readonly epochs?: number;
  /** Steps (iterations) per epoch, an integer `>= 1`. */
  readonly stepsPerEpoch: number;
}

/** The SGD-baseline form of {@link swaReference} (no `swaLr`): decay to `0.01 * lrInit` over `epochs`. */
export interface SwaReferenceSgdOptions {
  readonly lrInit: number;
  readonly swaLr?: undefined;
  /** Training length in epochs (`--epochs`), an integer `>= 1`. */
  readonly epochs: number;
  /** Not used by the SGD form (kept so a config can toggle `swaLr` alone), checked if given. */
  readonly swaStart?: number;
  readonly stepsPerEpoch: number;
}

/** Options of {@link swaReference}: the SWA form (with `swaLr`) or the SGD form (without). */
export type SwaReferenceOptions = SwaReferenceSwaOptions | SwaReferenceSgdOptions;

/**
 * The authors' per-epoch schedule (timgaripov/swa `train.py`), constant within an epoch.
 * With `epoch = floor(step / stepsPerEpoch)` (0-based): `t = epoch / T` and ratio `r`, where
 * `T = swaStart, r = swaLr / lrInit` in the SWA form and `T = epochs, r = 0.01` in the SGD form;
 * `factor = 1` for `t <= 0.5`, `1 - (1 - r) * (t - 0.5) / 0.4` for `t <= 0.9`, `r` after;
 * `lr = lrInit * factor`.
 *
 * @example
 * const s = swaReference({ lrInit: 0.1, swaLr: 0.05, swaStart: 10, stepsPerEpoch: 100 });
 * [s(0), s(700), s(900)] // [0.1, 0.075, 0.05] (epochs 0, 7, 9)
 */
export const swaReference = (options: SwaReferenceOptions): Schedule => {
  const where = "swaReference";
  const lrInit = checkPositive(where, "lrInit", options.lrInit);
  const stepsPerEpoch = checkPositiveInt(where, "stepsPerEpoch", options.stepsPerEpoch);
  let horizon: number;
  /** The final rate, `lrInit * ratio` in the authors' code (written so it cannot overflow). */
  let end: number;
  if (options.swaLr !== undefined) {
    const swaLr = checkRate(where, "swaLr", options.swaLr);
    if (options.swaStart === undefined)
      fail("swaStart", undefined, "the SWA start epoch (> 0) when swaLr is given", where);
    horizon = checkPositive(where, "swaStart", options.swaStart);
    if (options.epochs !== undefined) checkPositiveInt(where, "epochs", options.epochs);
    end = swaLr;
  } else {
    if (options.epochs === undefined)
      fail(
        "epochs",
        undefined,
        "the number of training epochs (an integer >= 1) when swaLr is omitted (SGD form)",
        where,
      );
    horizon = checkPositiveInt(where, "epochs", options.epochs);
    if (options.swaStart !== undefined) checkPositive(where, "swaStart", options.swaStart);
    end = 0.01 * lrInit;
  }
  return (step) => {
    checkStep(where, step);
    const t = Math.floor(step / stepsPerEpoch) / horizon;
    // The authors: lr_init * factor, factor = 1 - (1 - ratio) (t - 0.5) / 0.4 between 0.5 and
    // 0.9. The same line through (0.5, lrInit) and (0.9, end), without forming swaLr / lrInit,
    // which overflows when lrInit is tiny.
    if (t <= 0.5) return lrInit;
    if (t <= 0.9) return lrInit + (end - lrInit) * ((t - 0.5) / 0.4);
    return end;
  };
};
