/**
 * The messages between the page and its training worker (plain data: structured-cloneable).
 *
 * @module
 */
import type { PlanResults } from "@wider/geometry";
import type { Track } from "./plan.js";
import type { Settings } from "./settings.js";

/** Page -> worker. */
export type ToWorker =
  | { readonly type: "start"; readonly settings: Settings; readonly base: string }
  | { readonly type: "pause" }
  | { readonly type: "resume" }
  | { readonly type: "export" }
  | {
      readonly type: "import";
      readonly manifestText: string;
      readonly blob: Uint8Array;
      readonly settings: Settings;
      readonly base: string;
    };

/** One row of the calibration table. */
export interface MetricsRow {
  readonly method: string;
  readonly accuracy: number;
  readonly nll: number;
  readonly ece: number;
  readonly brier: number;
  readonly count: number;
}

/** Worker -> page. */
export type FromWorker =
  | {
      readonly type: "backend";
      readonly backend: string;
      readonly detail: string;
      readonly threads: number;
      readonly isolated: boolean;
    }
  | { readonly type: "status"; readonly text: string }
  | {
      readonly type: "plan";
      readonly rows: ReadonlyArray<{ step: number; lr: number; track: Track }>;
      readonly totalSteps: number;
      readonly swaStartStep: number;
      readonly budgetStep: number;
    }
  | {
      readonly type: "progress";
      readonly track: Track;
      readonly step: number;
      readonly lr: number;
      readonly loss: number;
      /** Steps run so far over all tracks. */
      readonly done: number;
      /** Training samples per second over the last interval (steps only, evaluation excluded). */
      readonly samplesPerSec: number;
    }
  | {
      readonly type: "point";
      readonly track: Track;
      readonly step: number;
      readonly testError: number;
      /** Models in the SWA average / FGE ensemble at this point (1 for SGD). */
      readonly models: number;
    }
  | { readonly type: "paused" }
  | { readonly type: "resumed" }
  | { readonly type: "final"; readonly rows: readonly MetricsRow[] }
  | {
      readonly type: "geometry";
      readonly segment: PlanResults;
      readonly plane: PlanResults;
      /** The plane's three anchors, e.g. `["FGE 1", "FGE 3", "FGE 5"]`, and what they are. */
      readonly planeLabels: readonly [string, string, string];
      readonly planeTitle: string;
    }
  | { readonly type: "done"; readonly seconds: number; readonly leaked: number }
  | {
      readonly type: "exported";
      readonly manifestText: string;
      readonly blobName: string;
      readonly blob: Uint8Array;
    }
  | { readonly type: "imported"; readonly row: MetricsRow }
  | { readonly type: "error"; readonly message: string };
