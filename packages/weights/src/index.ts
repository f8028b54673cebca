/**
 * `@wider/weights`: weight-space arithmetic over TensorFlow.js models. On Node (the `node` export
 * condition) this root entry is the browser-safe API plus the file functions of
 * `@wider/weights/node`; browsers and other platforms get `./browser.js` alone.
 *
 * @packageDocumentation
 */
export * from "./browser.js";
export * from "./node.js";
