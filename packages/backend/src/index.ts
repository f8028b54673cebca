/** @wider/backend — work in progress. */
export const packageName = "@wider/backend";
