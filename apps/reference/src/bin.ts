#!/usr/bin/env node
/**
 * The `wider` executable: runs {@link main} and exits with its code. An unexpected failure (a bug,
 * not a user's mistake) prints its stack and exits 70.
 *
 * @module
 */
import { main } from "./cli.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (e: unknown) => {
    process.stderr.write(`wider: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(70);
  },
);
