/**
 * `@wider/parallel`: data-parallel training for TensorFlow.js. On Node (the `node` export
 * condition) this root entry is `./browser.js` plus `nodeTransport` of `@wider/parallel/node`.
 *
 * @packageDocumentation
 */
export * from "./browser.js";
export { type NodeTransportOptions, nodeTransport } from "./node.js";
