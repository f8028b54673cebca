/**
 * The problems of a failed io-ts decoding as one short clause, through `@wider/errors`' reporting
 * (`metadata.step is -1; expected a non-negative integer`). Internal.
 *
 * @module
 */
import { reportErrors, showProblem } from "@wider/errors";
import type * as t from "io-ts";

/** Up to three problems of `errors`, paths under `root`, joined by "; ". */
export const problems = (errors: t.Errors, root: string): string => {
  const all = reportErrors(errors, root);
  const more = all.length > 3 ? ` (and ${all.length - 3} more)` : "";
  return `${all.slice(0, 3).map(showProblem).join("; ")}${more}`;
};
