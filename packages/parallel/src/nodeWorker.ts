/**
 * The `worker_threads` entry of a replica: {@link serveWorker} over `parentPort`. Started by
 * `nodeTransport()`; not imported by users.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { fail } from "./errors.js";
import { serveWorker } from "./worker.js";

if (parentPort === null) fail("config", "@wider/parallel: nodeWorker must run in a worker thread");
const port = parentPort;
serveWorker({
  postMessage: (m) => port.postMessage(m),
  onMessage: (f) => {
    port.on("message", f);
  },
});
