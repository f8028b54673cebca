/**
 * `@wider/swag/node`: saving and loading SWAG states to directories (Node only, through
 * `@wider/weights/node`). On Node also exported from the root entry.
 *
 * @packageDocumentation
 */
export { deviationGroup, loadSwagState, saveSwagState } from "./persistence.js";
