/** @wider/geometry — work in progress. */
export const packageName = "@wider/geometry";
