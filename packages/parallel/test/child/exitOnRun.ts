/** A replica entry for the failure test: worker 1 exits (code 3) when a run starts; the others serve. */
import { parentPort } from "node:worker_threads";
import { serveWorker } from "../../src/worker.js";

const port = parentPort!;
let index = -1;
serveWorker({
  postMessage: (m) => port.postMessage(m),
  onMessage: (f) => {
    port.on("message", (m: { type: string; index?: number }) => {
      if (m.type === "init") index = m.index ?? -1;
      if (m.type === "run" && index === 1) process.exit(3);
      f(m);
    });
  },
});
