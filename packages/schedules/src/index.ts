/** @wider/schedules — work in progress. */
export const packageName = "@wider/schedules";
