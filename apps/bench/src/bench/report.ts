/**
 * The benchmark's outputs: `results.json` (everything) and a Markdown table.
 *
 * @module
 */
import type { BenchResults, Figure } from "./suite.js";

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
  return `${lines.join("\n")}\n`;
};
