#!/usr/bin/env node
/**
 * `node apps/reference/dist/compareMain.js --wider DIR --twin DIR [--wider DIR --twin DIR ...]
 * [--docs FILE]`: Wider's multi-seed runs beside their PyTorch twins ({@link compareRuns}), printed
 * and, with `--docs`, written into FILE's `<!-- twin:begin -->` … `<!-- twin:end -->` section.
 * User mistakes are one line on stderr (exit 2 for usage, 1 for unreadable runs).
 *
 * @module
 */
import { AppError } from "./AppError.js";
import { compareRuns, parseCompareArgs } from "./compare.js";

const run = async (argv: readonly string[]): Promise<number> => {
  try {
    const { pairs, docs } = parseCompareArgs(argv);
    const md = await compareRuns(pairs, {
      docs,
      command: `pnpm compare -- ${argv.filter((a) => a !== "--").join(" ")}`,
    });
    process.stdout.write(md);
    if (docs !== null) process.stdout.write(`written into ${docs} (twin section)\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    process.stderr.write(`compare: ${e.message.replace(/^compare: /, "")}\n`);
    return e.exitCode;
  }
};

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`compare: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(70);
  },
);
