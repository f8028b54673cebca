/** @wider/weights — work in progress. */
export const packageName = "@wider/weights";
