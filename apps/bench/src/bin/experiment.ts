#!/usr/bin/env node
/**
 * Entry point of `pnpm experiment fashion-mnist` (see `../experiment/cli.ts` for the flags).
 *
 * @module
 */
import { parseExperimentCli } from "../experiment/cli.js";
import { runExperiment, runWorker } from "../experiment/run.js";

try {
  const cli = parseExperimentCli(process.argv.slice(2));
  if (cli.kind === "worker") {
    await runWorker(cli.config, cli.seed, cli.result);
  } else {
    await runExperiment(cli.config, {
      outDir: cli.outDir,
      prefix: cli.config.dataset,
      docs: cli.docs,
      command: cli.command,
      log: (l) => process.stdout.write(`${l}\n`),
    });
  }
  process.exit(0);
} catch (e) {
  process.stderr.write(
    `wider experiment: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
}
