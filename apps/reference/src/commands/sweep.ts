/**
 * `wider sweep`: a sweep across machines on Redis (BullMQ).
 * - `wider sweep --spec sweep.json --redis URL`: checks every configuration of the spec (base +
 *   grid point, over the defaults, as a config file is checked), then enqueues one job per
 *   (configuration, seed); a re-submission adds only what is missing.
 * - `wider sweep status --redis URL [--name NAME] [--wait]`: a progress bar over the jobs and each
 *   job's state (`--wait`: until every job is done or failed).
 * - `wider sweep results --redis URL --out DIR [--name NAME]`: per configuration, the seeds'
 *   reports (decoded with the aggregate's codec) through the multi-seed aggregate (`aggregate()`,
 *   `writeAggregate()`: mean ± std, paired tests) in `DIR/<configuration>/`, and `DIR/sweep.md`.
 *
 * @module
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  decodeSweepSpec,
  expandSweep,
  jobStates,
  listSweeps,
  readResults,
  readSweep,
  redactUrl,
  type SweepRecord,
  submitSweep,
} from "@wider/distributed";
import * as E from "fp-ts/lib/Either.js";
import type { Redis } from "ioredis";
import { AppError } from "../AppError.js";
import { aggregate, SeedReport } from "../aggregate.js";
import { writeAggregate } from "../aggregateReport.js";
import { type Config, defaultConfig } from "../config.js";
import { decodePartial, resolveConfig } from "../configDecode.js";
import {
  asAppErrors,
  cliConnect,
  orAppError,
  parseSubcommand,
  redisFlag,
  str,
  subcommandHelp,
} from "./common.js";
import { sweepSpec } from "./specs.js";

const usage = `wider sweep ${sweepSpec.usage.replace(/\n\s*/g, " | ")}`;

/** The `out` every sweep job's config carries until its worker sets its own directory. */
export const sweepOutPlaceholder = "(set by the worker)";

/** A spec configuration (base + grid point) as a full, checked run configuration. */
export const resolveSweepConfig =
  (file: string) =>
  (partial: Record<string, unknown>): Record<string, unknown> => {
    if ("out" in partial)
      throw new AppError(
        `${file}: "out" cannot be set in a sweep; each worker writes a run to <--dir>/runs/<job fingerprint>`,
      );
    const decoded = decodePartial(partial, { kind: "file", path: file });
    if (E.isLeft(decoded)) throw decoded.left;
    const base: Config = { ...defaultConfig(new Date(0)), out: sweepOutPlaceholder };
    const full = resolveConfig(base, decoded.right);
    if (E.isLeft(full)) throw new AppError(`${file}: ${full.left.message}`);
    return full.right as unknown as Record<string, unknown>;
  };

/** Runs `wider sweep …`; resolves to the exit code. */
export const sweepCommand = async (argv: readonly string[]): Promise<number> => {
  const sub = argv[0] === "status" || argv[0] === "results" ? argv[0] : null;
  const v = parseSubcommand(sweepSpec, sub === null ? argv : argv.slice(1));
  if (v.help === true) {
    process.stdout.write(subcommandHelp(sweepSpec));
    return 0;
  }
  const url = redisFlag("sweep", v.redis, usage);
  const queue = str(v.queue) ?? "wider";
  const { client, lastError } = cliConnect(url);
  try {
    return await asAppErrors(async () => {
      if (sub === null) return await submit(url, queue, client, str(v.spec), lastError);
      const name = await sweepName(client, queue, str(v.name), lastError);
      const record = orAppError(await readSweep(client, queue, name), lastError);
      if (sub === "status")
        return await status(url, queue, client, record, v.wait === true, lastError);
      const out = str(v.out);
      if (out === undefined || out === "")
        throw new AppError(
          `sweep results: --out DIR is required (where the aggregate report is written); usage: ${usage}`,
        );
      return await results(
        queue,
        client,
        record,
        out,
        `wider sweep ${argv.join(" ").replace(url, redactUrl(url))}`,
        lastError,
      );
    }, lastError);
  } finally {
    client.disconnect();
  }
};

const sweepName = async (
  client: Redis,
  queue: string,
  name: string | undefined,
  lastError: () => Error | null,
): Promise<string> => {
  if (name !== undefined) return name;
  const names = orAppError(await listSweeps(client, queue), lastError);
  if (names.length === 1 && names[0] !== undefined) return names[0];
  throw new AppError(
    names.length === 0
      ? `sweep: queue ${queue} holds no sweep; submit one with wider sweep --spec sweep.json`
      : `sweep: queue ${queue} holds ${names.length} sweeps (${names.join(", ")}); pick one with --name`,
  );
};

const submit = async (
  url: string,
  queue: string,
  client: Redis,
  specFile: string | undefined,
  lastError: () => Error | null,
): Promise<number> => {
  if (specFile === undefined)
    throw new AppError(`sweep: --spec sweep.json is required to submit a sweep; usage: ${usage}`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(specFile, "utf8"));
  } catch (e) {
    throw new AppError(`--spec: cannot read ${specFile} as JSON (${(e as Error).message})`);
  }
  const decoded = decodeSweepSpec(json, specFile);
  if (E.isLeft(decoded)) throw new AppError(decoded.left.message);
  const spec = decoded.right;
  const jobs = orAppError(expandSweep(spec, resolveSweepConfig(specFile)));
  const { summary } = orAppError(await submitSweep(url, queue, client, spec, jobs), lastError);
  process.stdout.write(
    `sweep ${spec.name}: ${jobs.length} jobs (${jobs.length / spec.seeds.length} configurations x ${spec.seeds.length} seeds) on ${redactUrl(url)} queue ${queue}: ${summary.added} added, ${summary.done} done already, ${summary.present} queued or running already, ${summary.retried} failed ones retried\n`,
  );
  return 0;
};

/** `[#######-------] 7/14` */
export const progressBar = (done: number, total: number, width = 30): string => {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total}`;
};

const status = async (
  url: string,
  queue: string,
  client: Redis,
  record: SweepRecord,
  wait: boolean,
  lastError: () => Error | null,
): Promise<number> => {
  const fps = record.jobs.map((j) => j.fingerprint);
  for (;;) {
    const states = orAppError(await jobStates(url, queue, client, fps), lastError);
    const count = (s: string) => [...states.values()].filter((x) => x.state === s).length;
    const done = count("done");
    const failed = count("failed");
    const finished = done + failed === fps.length;
    if (!wait || finished) {
      const results = orAppError(await readResults(client, queue, fps), lastError);
      const lines = [
        `sweep ${record.name}: ${progressBar(done, fps.length)} done, ${count("active")} running, ${count("waiting") + count("delayed")} waiting, ${failed} failed`,
        ...record.jobs.map((j) => {
          const s = states.get(j.fingerprint);
          const r = results.get(j.fingerprint);
          return `  ${j.fingerprint.slice(0, 12)} ${JSON.stringify(j.label)} seed ${j.seed}: ${s?.state ?? "?"}${s !== undefined && s.attempts > 1 ? ` (${s.attempts} attempts)` : ""}${r === undefined ? "" : ` by ${r.worker} in ${r.seconds.toFixed(1)}s`}${s?.error ? ` — ${s.error}` : ""}`;
        }),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
      return failed > 0 ? 1 : 0;
    }
    process.stdout.write(`sweep ${record.name}: ${progressBar(done, fps.length)}\n`);
    await new Promise((r) => setTimeout(r, 2000));
  }
};

const writeAtomic = async (file: string, text: string): Promise<void> => {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, file);
};

/** A directory name for a configuration: its grid values, or `base` when the grid is empty. */
export const configDirName = (label: Readonly<Record<string, unknown>>): string => {
  const parts = Object.entries(label).map(
    ([k, v]) => `${k}-${typeof v === "string" ? v : JSON.stringify(v)}`,
  );
  return parts.length === 0
    ? "base"
    : parts
        .join("_")
        .replace(/[^A-Za-z0-9._=-]+/g, "_")
        .slice(0, 120);
};

const results = async (
  queue: string,
  client: Redis,
  record: SweepRecord,
  out: string,
  command: string,
  lastError: () => Error | null,
): Promise<number> => {
  const stored = orAppError(
    await readResults(
      client,
      queue,
      record.jobs.map((j) => j.fingerprint),
    ),
    lastError,
  );
  const groups = new Map<string, SweepRecord["jobs"]>();
  for (const j of record.jobs) groups.set(j.configKey, [...(groups.get(j.configKey) ?? []), j]);
  await mkdir(out, { recursive: true });
  const rows: string[] = [];
  let missing = 0;
  for (const jobs of groups.values()) {
    const first = jobs[0];
    if (first === undefined) continue;
    const name = configDirName(first.label);
    const finished = jobs.filter((j) => stored.has(j.fingerprint));
    missing += jobs.length - finished.length;
    if (finished.length === 0) {
      rows.push(`| ${name} | 0 of ${jobs.length} | no seed finished yet | |`);
      continue;
    }
    const dir = join(out, name);
    const reports: SeedReport[] = [];
    const runs: string[] = [];
    for (const j of finished) {
      const output = stored.get(j.fingerprint)?.output;
      const r = SeedReport.decode(output);
      if (E.isLeft(r))
        throw new AppError(
          `sweep results: job ${j.fingerprint.slice(0, 12)}…'s result is not a wider report of this version; rerun it (another --queue) or update the workers`,
        );
      const runDir = join(dir, `seed-${j.seed}`);
      await mkdir(runDir, { recursive: true });
      await writeAtomic(join(runDir, "report.json"), `${JSON.stringify(output, null, 2)}\n`);
      reports.push(r.right);
      runs.push(runDir);
    }
    const agg = aggregate(
      finished.map((j) => j.seed),
      runs,
      reports,
    );
    await writeAggregate(dir, agg, { docs: null, command });
    const acc = agg.methods
      .map(
        (m) =>
          `${m.key} ${(100 * (m.accuracy.mean ?? Number.NaN)).toFixed(2)} ± ${(100 * (m.accuracy.std ?? 0)).toFixed(2)}`,
      )
      .join(", ");
    rows.push(
      `| ${name} | ${finished.length} of ${jobs.length} | ${acc} | [aggregate](${name}/aggregate.md) |`,
    );
  }
  const md = [
    `# Sweep ${record.name}`,
    "",
    `${record.jobs.length} jobs, ${groups.size} configurations; test accuracy (%) mean ± std over the finished seeds.`,
    missing > 0 ? `\n**Partial:** ${missing} jobs have no result yet.` : "",
    "",
    "| configuration | seeds | accuracy | report |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
  await writeAtomic(join(out, "sweep.md"), md);
  process.stdout.write(
    `${md}\nwritten: ${join(out, "sweep.md")} and one aggregate per configuration\n`,
  );
  return missing > 0 ? 1 : 0;
};
