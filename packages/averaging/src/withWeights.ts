/**
 * `withWeights` moved to `@wider/weights`; this re-export stays for one minor version.
 *
 * @module
 */
import { withWeights as fromWeightsPackage } from "@wider/weights";

/** @deprecated import from @wider/weights; removed in the next minor */
export const withWeights = fromWeightsPackage;
