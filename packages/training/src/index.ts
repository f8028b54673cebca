/**
 * `@wider/training`: the training pipeline as pure, tested functions: PyTorch-exact optimizers
 * over `Weights`, losses, one training step, one step-driven loop with hooks, branching and
 * checkpoint/resume. On Node (the `node` export condition) this root entry is `./browser.js` plus
 * the checkpoint files of `@wider/training/node`; other platforms get `./browser.js` alone.
 *
 * @packageDocumentation
 */
export * from "./browser.js";
export * from "./node.js";
