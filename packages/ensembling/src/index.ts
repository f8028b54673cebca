/** @wider/ensembling — work in progress. */
export const packageName = "@wider/ensembling";
