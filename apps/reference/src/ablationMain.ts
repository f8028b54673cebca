#!/usr/bin/env node
/**
 * `node apps/reference/dist/ablationMain.js --cell DIR [--cell DIR ...] [--seeds 0,1,2] [--docs FILE]`: the MLP
 * ablation table of issue 14 ({@link ablation}), printed and, with `--docs`, written into FILE's
 * `<!-- ablation:begin -->` … `<!-- ablation:end -->` section. User mistakes are one line on stderr.
 *
 * @module
 */
import { AppError } from "./AppError.js";
import { ablation, parseAblationArgs } from "./ablation.js";

const run = async (argv: readonly string[]): Promise<number> => {
  try {
    const { cells, docs, seeds } = parseAblationArgs(argv);
    const md = await ablation(cells, {
      docs,
      seeds,
      command: `pnpm ablation -- ${argv.filter((a) => a !== "--").join(" ")}`,
    });
    process.stdout.write(md);
    if (docs !== null) process.stdout.write(`written into ${docs} (ablation section)\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return e.exitCode;
  }
};

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`ablation: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(70);
  },
);
