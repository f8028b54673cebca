/**
 * `@wider/swag`: SWA-Gaussian and MultiSWAG for TensorFlow.js. On Node (the `node` export
 * condition) this root entry is `./browser.js` plus `@wider/swag/node`; other platforms get
 * `./browser.js` alone.
 *
 * @packageDocumentation
 */
export * from "./browser.js";
export * from "./node.js";
