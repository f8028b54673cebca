#!/usr/bin/env node
/**
 * Entry point of `pnpm bench` (see `../bench/cli.ts` for the flags).
 *
 * @module
 */
import { parseBenchCli, runBench } from "../bench/cli.js";

try {
  await runBench(parseBenchCli(process.argv.slice(2)));
  process.exit(0);
} catch (e) {
  process.stderr.write(`wider bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
