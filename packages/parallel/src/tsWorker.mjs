// Development only (running @wider/parallel from its TypeScript sources, as its tests and benches
// do): registers tsx in the worker thread, then loads the replica entry given as workerData.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
