/**
 * Writes the multi-seed aggregate: `aggregate.json` (every number), `aggregate.md` (tables and
 * findings, also written into a docs file's generated `experiment` section with `--docs`) and
 * `aggregate.html` (the same tables and a per-seed dot plot, self-contained). All atomic.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { renderVegaLiteToSvg } from "@wider/geometry";
import type { TopLevelSpec } from "vega-lite";
import { AppError } from "./AppError.js";
import type { Aggregate } from "./aggregate.js";
import { docsPlots } from "./docsPlots.js";
import type { Summary } from "./stats.js";

const writeAtomic = async (file: string, text: string): Promise<void> => {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new AppError(`cannot write ${file}: ${(e as Error).message}`, 1);
  }
};

const pm = (s: Summary, scale = 1, digits = 2): string =>
  s.mean === null
    ? "n/a"
    : `${(scale * s.mean).toFixed(digits)} ± ${(scale * (s.std ?? 0)).toFixed(digits)}`;

const label = (key: string): string =>
  ({
    sgd: "SGD",
    swa: "SWA",
    swaExtended: "SWA (extended)",
    fge: "FGE",
    swag: "SWAG",
    pretrained: "pretrained",
  })[key] ?? key;

/** The aggregate as Markdown: setup line, method table, paired differences, per seed, findings. */
export const aggregateMarkdown = (a: Aggregate, command: string): string => {
  const lines = [
    `Command: \`${command}\` (${a.createdAt}; ${a.seeds.length} seeds; backend ${a.backend}; ${pm(a.seconds, 1, 0)} s of training and analysis per seed).`,
    "",
    `Data: ${a.dataset.name}, ${a.dataset.trainUsed.toLocaleString("en-US")} of ${a.dataset.trainTotal.toLocaleString("en-US")} training images, ${a.dataset.testUsed.toLocaleString("en-US")} test images. Model: ${a.model.name} (${a.model.parameters.toLocaleString("en-US")} parameters).`,
    "",
    "| method | test accuracy (%) | test NLL | test ECE | Brier |",
    "|---|---|---|---|---|",
    ...a.methods.map(
      (m) =>
        `| ${label(m.key)} | ${pm(m.accuracy, 100)} | ${pm(m.nll, 1, 4)} | ${pm(m.ece, 1, 4)} | ${pm(m.brier, 1, 4)} |`,
    ),
    ...(a.multiSwag === null
      ? []
      : [
          `| MultiSWAG (${a.multiSwag.members} runs, ${a.multiSwag.samples} samples; one value) | ${(100 * a.multiSwag.accuracy).toFixed(2)} | ${a.multiSwag.nll.toFixed(4)} | ${a.multiSwag.ece.toFixed(4)} | ${a.multiSwag.brier.toFixed(4)} |`,
        ]),
    "",
    "Paired differences over seeds (mean ± std; two-sided paired t-test):",
    "",
    "| difference | accuracy (points) | p | NLL | p | ECE | p |",
    "|---|---|---|---|---|---|---|",
    ...a.comparisons.map((c) => {
      const f = (d: (typeof c)["accuracy"], scale: number, digits: number) =>
        `${d.mean === null ? "n/a" : `${(scale * d.mean).toFixed(digits)} ± ${(scale * (d.std ?? 0)).toFixed(digits)}`} | ${d.p === null ? "-" : d.p.toPrecision(2)}`;
      return `| ${label(c.a)} − ${label(c.b)} | ${f(c.accuracy, 100, 2)} | ${f(c.nll, 1, 4)} | ${f(c.ece, 1, 4)} |`;
    }),
    "",
    `Width (median over rays; mean ± std over seeds): SGD ${pm(a.width.sgd)}, SWA ${pm(a.width.swa)}; distance SGD–SWA ${pm(a.sgdSwaDistance)}.`,
    "",
    ...(["accuracy", "nll", "ece"] as const).flatMap((metric) => [
      `Per seed (test ${metric === "accuracy" ? "accuracy %" : metric === "nll" ? "NLL" : "ECE"}):`,
      "",
      `| seed | ${a.methods.map((m) => label(m.key)).join(" | ")} |`,
      `|---|${a.methods.map(() => "---").join("|")}|`,
      ...a.seeds.map(
        (s, i) =>
          `| ${s} | ${a.methods
            .map((m) => {
              const v = m[metric].values[i];
              if (v === null || v === undefined) return "n/a";
              return metric === "accuracy" ? (100 * v).toFixed(2) : v.toFixed(4);
            })
            .join(" | ")} |`,
      ),
      "",
    ]),
    "Findings (computed from the numbers above):",
    "",
    ...a.findings.map((f) => `- ${f}`),
  ];
  return `${lines.join("\n")}\n`;
};

const seedsSpec = (a: Aggregate): TopLevelSpec =>
  ({
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: 220,
    height: 30 * a.methods.length,
    title: "Test error and NLL per seed (dots) and mean (bar)",
    data: {
      values: a.methods.flatMap((m) =>
        a.seeds.flatMap((s, i) => [
          {
            method: label(m.key),
            seed: s,
            metric: "test error (%)",
            value: 100 * (1 - (m.accuracy.values[i] ?? Number.NaN)),
          },
          { method: label(m.key), seed: s, metric: "NLL", value: m.nll.values[i] ?? null },
        ]),
      ),
    },
    facet: { column: { field: "metric", type: "nominal", title: null } },
    spec: {
      layer: [
        {
          mark: { type: "point", filled: true, opacity: 0.7 },
          encoding: {
            y: { field: "method", type: "nominal", sort: null, title: null },
            x: { field: "value", type: "quantitative", scale: { zero: false }, title: null },
            color: { field: "method", type: "nominal", legend: null },
          },
        },
        {
          mark: { type: "tick", thickness: 2, color: "#222" },
          encoding: {
            y: { field: "method", type: "nominal", sort: null },
            x: { aggregate: "mean", field: "value", type: "quantitative" },
          },
        },
      ],
    },
    resolve: { scale: { x: "independent" } },
  }) as TopLevelSpec;

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Markdown tables to HTML (only what {@link aggregateMarkdown} writes: text, tables, lists). */
const mdToHtml = (md: string): string => {
  const out: string[] = [];
  let table: string[][] = [];
  let list: string[] = [];
  const flush = () => {
    if (table.length > 0) {
      const [head, , ...body] = table;
      out.push(
        `<table><tr>${(head ?? []).map((c) => `<th>${esc(c)}</th>`).join("")}</tr>${body.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("")}</table>`,
      );
      table = [];
    }
    if (list.length > 0) {
      out.push(`<ul>${list.map((l) => `<li>${esc(l)}</li>`).join("")}</ul>`);
      list = [];
    }
  };
  for (const line of md.split("\n")) {
    if (line.startsWith("|"))
      table.push(
        line
          .slice(1, -1)
          .split("|")
          .map((c) => c.trim()),
      );
    else if (line.startsWith("- ")) list.push(line.slice(2));
    else {
      flush();
      if (line.trim() !== "")
        out.push(`<p>${esc(line).replace(/`([^`]*)`/g, "<code>$1</code>")}</p>`);
    }
  }
  flush();
  return out.join("\n");
};

/** Replaces the `<!-- name:begin -->`…`<!-- name:end -->` section of a Markdown file. */
export const replaceSection = async (file: string, name: string, body: string): Promise<void> => {
  const path = resolve(file);
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const text = existsSync(path) ? await readFile(path, "utf8") : `${begin}\n${end}\n`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i)
    throw new AppError(
      `--docs: ${file} has no "${begin}" … "${end}" section; add the two markers where the results go`,
    );
  await writeAtomic(
    path,
    `${text.slice(0, i)}${begin}\n${body.trimEnd()}\n${end}${text.slice(j + end.length)}`,
  );
};

/**
 * The docs section a multi-seed run of `model` writes: `experiment-<model>` (one per model, so both
 * runs of an experiment go into one file), or the single `experiment` section of a file that has
 * that one and not the model's own.
 */
export const docsSection = (text: string, model: string): string => {
  const own = `experiment-${model}`;
  return !text.includes(`<!-- ${own}:begin -->`) && text.includes("<!-- experiment:begin -->")
    ? "experiment"
    : own;
};

/** Writes `aggregate.{json,md,html}` into `dir` (and the docs section when asked). */
export const writeAggregate = async (
  dir: string,
  a: Aggregate,
  options: { readonly docs: string | null; readonly command: string },
): Promise<void> => {
  const md = aggregateMarkdown(a, options.command);
  const svg = await renderVegaLiteToSvg(seedsSpec(a));
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Wider: ${esc(a.model.name)} on ${esc(a.dataset.name)}, ${a.seeds.length} seeds</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}
</style></head><body>
<h1>Wider over ${a.seeds.length} seeds</h1>
${mdToHtml(md)}
<figure id="fig-seeds">${svg}<figcaption>Each seed's test error and NLL per method; the bar is the mean.</figcaption></figure>
<p>Per-seed reports: ${a.runs.map((r) => `<a href="${esc(r.split("/").at(-1) ?? r)}/report.html">${esc(r.split("/").at(-1) ?? r)}</a>`).join(", ")}.</p>
</body></html>
`;
  await writeAtomic(join(dir, "aggregate.json"), `${JSON.stringify(a, null, 2)}\n`);
  await writeAtomic(join(dir, "aggregate.md"), md);
  await writeAtomic(join(dir, "aggregate.html"), html);
  if (options.docs !== null) {
    // The plot goes beside the docs file, named after the model and data set.
    const plot = `${a.model.name}-${a.dataset.name}-seeds.svg`.replace(/[^A-Za-z0-9.-]/g, "-");
    const dir = dirname(resolve(options.docs));
    await writeAtomic(join(dir, plot), svg);
    const images = [`![test error and NLL per seed and method](${plot})`];
    for (const p of await docsPlots(a.runs, a.sgdSwaDistance.mean)) {
      const file = plot.replace(/-seeds\.svg$/, `-${p.name}.svg`);
      await writeAtomic(join(dir, file), p.svg);
      images.push(`![${p.alt}](${file})`);
    }
    const text = existsSync(resolve(options.docs))
      ? await readFile(resolve(options.docs), "utf8")
      : "";
    const section = docsSection(text, a.model.name);
    await replaceSection(options.docs, section, `${md}\n${images.join("\n\n")}\n`);
  }
};
