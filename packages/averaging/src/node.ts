/**
 * `@wider/averaging/node`: saving and loading averager states to directories (Node only, through
 * `@wider/weights/node`). On Node also exported from the root entry.
 *
 * @packageDocumentation
 */
export { loadState, saveState } from "./persistence.js";
