/** @wider/averaging — work in progress. */
export const packageName = "@wider/averaging";
