/**
 * The benchmark's outputs: `results.json` (everything) and a Markdown table.
 *
 * @module
 */
import type { BenchResults, Figure } from "./suite.js";
import type { WorkersResults } from "./workers.js";

const num = (x: number | null): string => {
  if (x === null) return "n/a";
  if (Number.isInteger(x)) return x.toLocaleString("en-US");
  const a = Math.abs(x);
  if (a >= 100) return Math.round(x).toLocaleString("en-US");
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(3);
};

const ratioText = (f: Figure): string => {
  if (f.ratio === null) return "n/a";
  const better = f.unit === "samples/s" ? "higher" : "lower";
  return `${f.ratio.toFixed(f.ratio < 0.1 ? 3 : 2)}x (${better} is better for Wider)`;
};

/** The Markdown table of figures, with a header stating threads, BLAS and load. */
export const markdownTable = (r: BenchResults): string => {
  const p = r.pytorch;
  const peer = p.available
    ? `PyTorch ${p.torch} (${p.python}), ${p.threads} thread(s) (${p.threadsNote}); BLAS libraries loaded: ${p.blas.map((b) => b.split("/").pop()).join(", ")} (OpenBLAS: ${p.openblas ? "yes" : "NO"}; torch BLAS_INFO=${p.blasInfo})`
    : `PyTorch: not run (${p.reason})`;
  const lines = [
    `Benchmark (${r.config.mode}) of ${r.createdAt}: Node ${r.environment.node}, TensorFlow.js ${r.environment.tfjs}, ${r.environment.cpus} x ${r.environment.cpuModel}.`,
    "",
    `- Threads: ${r.environment.jsThreads}. ${peer}.`,
    `- Load average (1, 5, 15 min) at start ${r.environment.loadAverageStart.join(", ")}, at end ${r.environment.loadAverageEnd.join(", ")}; the run took ${r.seconds.toFixed(0)} s.`,
    `- Batch ${r.config.batch}; random inputs; the ratio is Wider's figure divided by PyTorch's on the same operation and shapes.`,
    "",
    "| operation | model | backend | Wider | PyTorch | unit | Wider ÷ PyTorch | runs (Wider / PyTorch) | note |",
    "|---|---|---|--:|--:|---|---|---|---|",
    ...r.figures.map(
      (f) =>
        `| ${f.operation} | ${f.model} | ${f.backend} | ${num(f.wider)} | ${num(f.pytorch)} | ${f.unit} | ${ratioText(f)} | ${f.runs} / ${f.pytorchRuns ?? "n/a"} | ${f.note} |`,
    ),
  ];
  // The data-parallel table has markers of its own, so that `pnpm bench -- --only workers` can
  // rewrite it alone.
  return `${lines.join("\n")}\n\n<!-- bench-workers:begin -->\n${workersTable(r.workers).trimEnd()}\n<!-- bench-workers:end -->\n`;
};

/** The data-parallel table: each side's threads, the load average per row, the targets, the leak check. */
export const workersTable = (w: WorkersResults): string => {
  const l = w.leak;
  const overloaded = [
    ...new Set(
      w.rows.flatMap((r) =>
        [...r.load.matchAll(/\d+(\.\d+)?/g)]
          .map((m) => Number(m[0]))
          .filter((x) => x > w.cores)
          .map((x) => x.toFixed(1)),
      ),
    ),
  ].sort((a, b) => Number(a) - Number(b));
  const flat = (a: readonly number[], b: readonly number[]) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  const lines = [
    `### Data-parallel training: \`wider --workers N\` (\`@wider/parallel\`), ${w.cores} cores`,
    "",
    "Each row measured in this run, the configurations alternated; the load average (1 min) is read right after each side was measured. Ratios: samples/s higher is better for Wider; the 2 ÷ 1 scaling and BN ÷ inference rows are ratios on each side. The ceiling rows run two independent 1-worker trainings of half a batch each at the same time: what 2 workers would reach if synchronising them cost nothing, on this machine's shared caches and memory bandwidth.",
    "",
    ...(overloaded.length > 0
      ? [
          `**Load above the core count** (${overloaded.join(", ")} on ${w.cores} cores): every thread waited for a core, and threads that meet at a barrier every step (2 workers; PyTorch's 2 OpenMP threads) waited most. The figures are what this run measured at that load; the targets are marked not judged.`,
          "",
        ]
      : []),
    "| operation | model | Wider side (threads) | Wider | PyTorch side (threads) | PyTorch | unit | Wider ÷ PyTorch | target | load average | note |",
    "|---|---|---|--:|---|--:|---|---|---|---|---|",
    ...w.rows.map(
      (r) =>
        `| ${r.operation} | ${r.model} | ${r.widerSide} | ${r.unit === "ratio" ? `${r.wider.toFixed(2)}x` : num(r.wider)} | ${r.pytorchSide} | ${r.pytorch === null ? "n/a" : r.unit === "ratio" ? `${r.pytorch.toFixed(2)}x` : num(r.pytorch)} | ${r.unit} | ${r.ratio === null ? "n/a" : `${r.ratio.toFixed(2)}x`} | ${r.target || "-"} | ${r.load} | ${r.note} |`,
    ),
    "",
    `Leak check: ${l.steps.toLocaleString("en-US")} steps of the ${l.model} on ${l.workers} wasm workers, batch of the table (${num(l.samplesPerSecond)} samples/s, load average ${l.load}); before → after ${Math.floor(l.steps / 2)} steps → after ${l.steps}: worker numTensors ${l.workerTensorsBefore.join("/")} → ${l.half.workerTensors.join("/")} → ${l.workerTensorsAfter.join("/")} (${flat(l.workerTensorsBefore, l.workerTensorsAfter) ? "no growth" : "GROWTH"}), main thread numTensors ${l.mainTensorsBefore} → ${l.half.mainTensors} → ${l.mainTensorsAfter} (${l.mainTensorsBefore === l.mainTensorsAfter ? "no growth" : "GROWTH"}), RSS ${l.rssBefore.toFixed(1)} → ${l.half.rss.toFixed(1)} → ${l.rssAfter.toFixed(1)} MB (the process, workers' wasm heaps included), heapUsed ${l.heapUsedBefore.toFixed(1)} → ${l.half.heapUsed.toFixed(1)} → ${l.heapUsedAfter.toFixed(1)} MB (after a forced GC each time).`,
  ];
  return `${lines.join("\n")}\n`;
};
