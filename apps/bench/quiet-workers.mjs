// One-off: the workers section alone, on a quiet machine (not committed).
import * as tf from "@tensorflow/tfjs";
import { initWasmTraining } from "@wider/backend";
import { fullConfig } from "./dist/bench/config.js";
import { workersTable } from "./dist/bench/report.js";
import { workersSection } from "./dist/bench/workers.js";
await initWasmTraining();
const t0 = Date.now();
const w = await workersSection(fullConfig, { log: (l) => console.error(l) });
console.log(workersTable(w));
console.error(`wall ${((Date.now() - t0) / 1000).toFixed(0)} s`);
