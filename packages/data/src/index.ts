/** @wider/data — work in progress. */
export const packageName = "@wider/data";
