/**
 * `@wider/averaging`: Stochastic Weight Averaging, EMA and BatchNorm re-estimation for
 * TensorFlow.js. On Node (the `node` export condition) this root entry is `./browser.js` plus
 * `@wider/averaging/node`; other platforms get `./browser.js` alone.
 *
 * @packageDocumentation
 */
export * from "./browser.js";
export * from "./node.js";
