/**
 * The `wider` command: flags and an optional JSON config file over the embedded defaults, then
 * one run, holding the lock on its output directory. A user's mistake prints one line on stderr and
 * exits non-zero (2: usage or config, 1: data or run); Ctrl-C or SIGTERM stops after the current
 * step (exit 130 or 143) with the last checkpoint intact. Parsing the command line and resolving
 * the config from it are in `cliArgs.ts`.
 *
 * @module
 */
import { AppError, Interrupted } from "./AppError.js";
import { configOf, helpText, outOf, parseCli } from "./cliArgs.js";
import { remoteGeometry } from "./distributedGeometry.js";
import { lockOutDir, type OutLock } from "./lock.js";
import { ensureOutDir, removeCreated } from "./outputDir.js";
import { makeProgress } from "./progress.js";
import { runExperiment } from "./run.js";
import { hasCheckpoint, noCheckpoint } from "./runChecks.js";
import { runSeeds } from "./seeds.js";

const fmt = (x: number): string => `${(100 * x).toFixed(2)}%`;

/** Exit codes of the signals that stop a run cleanly (128 + the signal's number). */
const stopSignals = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof stopSignals;

/** The CLI's main: returns the process exit code. */
export const main = async (argv: readonly string[]): Promise<number> => {
  const signal = { aborted: false };
  let stoppedBy: StopSignal | null = null;
  let lockLost: string | null = null;
  const onSignal = (name: StopSignal) => {
    if (signal.aborted && stoppedBy !== null) process.exit(stopSignals[name]);
    signal.aborted = true;
    stoppedBy = name;
    process.stderr.write(
      `\nwider: ${name}: stopping after the current step (${name === "SIGINT" ? "Ctrl-C" : "send it"} again to quit at once)\n`,
    );
  };
  const onSigint = () => onSignal("SIGINT");
  const onSigterm = () => onSignal("SIGTERM");
  let out: string | undefined;
  let lock: OutLock | undefined;
  let created: readonly string[] = [];
  try {
    const cli = parseCli(argv);
    if (cli.help) {
      process.stdout.write(`${helpText()}\n`);
      return 0;
    }
    if (cli.resume && cli.force)
      throw new AppError("--resume and --force contradict each other; pass one of them");
    // Pure checks of the command line first; then the output directory: where it lives, created,
    // locked for the run's whole life; then everything that reads it.
    const fresh = cli.resume ? undefined : await configOf(cli);
    out = fresh?.out ?? outOf(cli);
    if (out === undefined)
      throw new AppError("--resume needs --out DIR naming the run to continue");
    if (cli.resume && cli.seeds === null && !hasCheckpoint(out)) throw noCheckpoint(out);
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigterm);
    created = await ensureOutDir(out);
    lock = await lockOutDir(out, (reason) => {
      lockLost = reason;
      signal.aborted = true;
    });
    const config = fresh ?? (await configOf(cli));
    const progress = makeProgress(process.stdout, cli.quiet);
    const t0 = Date.now();
    if (cli.seeds !== null && cli.geometryRedis !== null)
      throw new AppError(
        "--geometry-redis applies to a single run; drop --seeds or --geometry-redis",
      );
    if (cli.seeds !== null) {
      const agg = await runSeeds(config, {
        seeds: cli.seeds,
        jobs: cli.jobs,
        force: cli.force,
        resume: cli.resume,
        progress,
        signal,
        docs: cli.docs,
        command: `wider ${argv.filter((a) => a !== "--").join(" ")}`,
      });
      progress.log(
        [
          `done: ${cli.seeds.length} seeds in ${((Date.now() - t0) / 1000).toFixed(1)}s; findings:`,
          ...agg.findings.map((f) => `  ${f}`),
          `aggregate: ${config.out}/aggregate.html, aggregate.md and aggregate.json`,
        ].join("\n"),
      );
      return 0;
    }
    if (cli.docs !== null || cli.jobs !== 1)
      throw new AppError("--jobs and --docs apply to a multi-seed run; add --seeds");
    const remote =
      cli.geometryRedis === null
        ? null
        : remoteGeometry({
            redis: cli.geometryRedis.url,
            queue: cli.geometryRedis.queue,
            sharedDir: cli.geometryRedis.dir,
            config,
            signal,
          });
    let report: Awaited<ReturnType<typeof runExperiment>>;
    try {
      report = await runExperiment(config, {
        resume: cli.resume,
        force: cli.force,
        progress,
        signal,
        ...(remote === null ? {} : { geometryRemote: remote.remote }),
      });
    } finally {
      remote?.close();
    }
    const r = report.results;
    progress.log(
      [
        `done in ${((Date.now() - t0) / 1000).toFixed(1)}s on ${report.backend.name}; test accuracy (NLL, ECE):`,
        `  SGD ${fmt(r.sgd.accuracy)} (${r.sgd.nll.toFixed(4)}, ${r.sgd.ece.toFixed(4)})`,
        `  SWA ${fmt(r.swa.accuracy)} (${r.swa.nll.toFixed(4)}, ${r.swa.ece.toFixed(4)}), ${report.swaAveraged} models averaged`,
        ...(r.swaExtended === undefined
          ? []
          : [
              `  SWA extended ${fmt(r.swaExtended.accuracy)} (${r.swaExtended.nll.toFixed(4)}, ${r.swaExtended.ece.toFixed(4)}), ${report.swaExtendedAveraged} models averaged`,
            ]),
        `  FGE ${fmt(r.fge.accuracy)} (${r.fge.nll.toFixed(4)}, ${r.fge.ece.toFixed(4)}), ${r.fge.members} snapshots`,
        ...(r.swag === undefined
          ? []
          : [
              `  SWAG ${fmt(r.swag.accuracy)} (${r.swag.nll.toFixed(4)}, ${r.swag.ece.toFixed(4)}), ${r.swag.samples} samples`,
            ]),
        `report: ${config.out}/report.html and report.json`,
      ].join("\n"),
    );
    return 0;
  } catch (e) {
    if (e instanceof Interrupted) {
      if (lockLost !== null) {
        process.stderr.write(
          `wider: lost the lock on ${out} (${lockLost}); stopped ${e.where}; continue with wider --resume --out ${out} once no other run uses it\n`,
        );
        return 1;
      }
      const by: StopSignal = stoppedBy ?? "SIGINT";
      process.stderr.write(
        `wider: ${e.message} (${by}); continue with wider --resume --out ${out ?? "<dir>"}\n`,
      );
      return stopSignals[by];
    }
    if (e instanceof AppError) {
      process.stderr.write(`wider: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  } finally {
    await lock?.release();
    // A run refused by its checks leaves no directory it created behind (only empty ones go).
    await removeCreated(created);
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
  }
};
