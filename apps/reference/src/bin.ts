#!/usr/bin/env node
/**
 * The `wider` executable: runs {@link main} and exits with its code. An unexpected failure (a bug,
 * not a user's mistake) prints its stack and exits 70.
 *
 * @module
 */
import { main } from "./cli.js";
import { dispatchDistributed } from "./commands/dispatch.js";

// `wider sweep …` and `wider worker …` (distributed mode) have their own entry; all else is `main`.
const argv = process.argv.slice(2);
(dispatchDistributed(argv) ?? main(argv)).then(
  (code) => {
    process.exit(code);
  },
  (e: unknown) => {
    process.stderr.write(`wider: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(70);
  },
);
