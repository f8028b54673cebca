/**
 * The page: the settings form (defaults, or the URL's `?name=value`), the buttons, the live plots
 * and, after training, the calibration table and the geometry plots. All computation is in the
 * worker (`worker.ts`); this file only draws what it reports.
 *
 * @module
 */
import { planeContourSpec, segmentPlotSpec } from "@wider/geometry";
import type { Spec as VegaSpec } from "vega";
import embed, { type Result, vega } from "vega-embed";
import type { TopLevelSpec } from "vega-lite";
import { errorSpec, scheduleSpec } from "./charts.js";
import type { FromWorker, MetricsRow, ToWorker } from "./protocol.js";
import {
  type DatasetName,
  defaultSettings,
  parseSettings,
  type Settings,
  settingNames,
} from "./settings.js";
import { readTar, writeTar } from "./tar.js";

/** What the end-to-end test (and a curious visitor's console) can read. */
interface PageState {
  status: string;
  backend: string | null;
  threads: number;
  isolated: boolean;
  paused: boolean;
  done: boolean;
  leaked: number | null;
  points: number;
  lastStep: number;
  /** Every samples/s report of the run (training steps only). */
  speeds: number[];
  swaError: number | null;
  importedError: number | null;
  rows: MetricsRow[];
  error: string | null;
}

declare global {
  interface Window {
    wider: PageState;
  }
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`index.html lacks #${id}`);
  return el as T;
};

const base = new URL("./", location.href).href;
const state: PageState = {
  status: "ready",
  backend: null,
  threads: 0,
  isolated: self.crossOriginIsolated === true,
  paused: false,
  done: false,
  leaked: null,
  points: 0,
  lastStep: 0,
  speeds: [],
  swaError: null,
  importedError: null,
  rows: [],
  error: null,
};
window.wider = state;

// ---------------------------------------------------------------------------------------------
// the form
// ---------------------------------------------------------------------------------------------

const labels: Record<keyof Settings, string> = {
  dataset: "data set",
  model: "model",
  trainSubset: "training images",
  testSubset: "test images",
  batchSize: "batch size",
  epochs: "budget (epochs)",
  swaStart: "SWA/FGE start (epoch)",
  lr: "SGD learning rate",
  swaLr: "SWA learning rate",
  swaEvery: "SWA cycle (epochs)",
  fgeCycle: "FGE cycle (epochs)",
  fgeLrMax: "FGE rate, high",
  fgeLrMin: "FGE rate, low",
  momentum: "momentum",
  weightDecay: "weight decay",
  seed: "model seed",
  dataSeed: "data seed",
  geometrySubset: "geometry images",
  segmentPoints: "segment points",
  planeGrid: "plane grid side",
  backend: "backend",
  threads: "wasm threads",
};
const options: Partial<Record<keyof Settings, readonly string[]>> = {
  dataset: ["mnist", "fashion-mnist"],
  model: ["mlp", "cnn", "cnn-bn"],
  backend: ["auto", "webgpu", "webgl", "wasm", "cpu"],
  threads: ["auto", "all", "off"],
};

const form = $<HTMLFormElement>("settings");
const fromUrl = parseSettings(new URLSearchParams(location.search).entries());
for (const name of settingNames) {
  const label = document.createElement("label");
  label.textContent = labels[name];
  const choices = options[name];
  const value = String(fromUrl.settings[name]);
  let input: HTMLInputElement | HTMLSelectElement;
  if (choices !== undefined) {
    const select = document.createElement("select");
    for (const c of choices) select.add(new Option(c, c, false, c === value));
    input = select;
  } else {
    const i = document.createElement("input");
    i.type = "text";
    i.inputMode = "decimal";
    i.value = value;
    i.size = 8;
    input = i;
  }
  input.id = `s-${name}`;
  input.name = name;
  label.append(input);
  form.append(label);
}
const showProblems = (p: readonly string[]): void => {
  $("problems").textContent = p.join("\n");
};
showProblems(fromUrl.problems);

const readForm = (): { settings: Settings; problems: readonly string[] } =>
  parseSettings(
    settingNames.map((n) => [n, ($(`s-${n}`) as HTMLInputElement | HTMLSelectElement).value]),
    defaultSettings,
  );

// Fashion-MNIST only where the build found its files (datasets.json says which).
fetch(`${base}data/datasets.json`)
  .then((r) => r.json() as Promise<{ available: DatasetName[]; missing: Record<string, string> }>)
  .then((d) => {
    const select = $<HTMLSelectElement>("s-dataset");
    for (const o of Array.from(select.options))
      if (!d.available.includes(o.value as DatasetName)) {
        o.disabled = true;
        o.textContent = `${o.value} (not in this build: ${d.missing[o.value] ?? "missing"})`;
        if (o.selected) select.value = d.available[0] ?? "mnist";
      }
  })
  .catch((e: unknown) => showProblems([`data/datasets.json: ${String(e)}; rebuild the app`]));

// ---------------------------------------------------------------------------------------------
// plots
// ---------------------------------------------------------------------------------------------

let lrView: Result | null = null;
let errView: Result | null = null;
const embedOptions = { actions: false, renderer: "svg" as const };

const draw = async (id: string, spec: TopLevelSpec | VegaSpec): Promise<Result> =>
  embed(`#${id}`, spec as TopLevelSpec, embedOptions);

const clearPlots = (): void => {
  for (const id of ["lr-chart", "error-chart", "segment-chart", "plane-chart"]) {
    $(id).replaceChildren();
  }
  lrView?.finalize();
  errView?.finalize();
  lrView = null;
  errView = null;
  $("calibration").querySelector("tbody")!.replaceChildren();
};

const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;

const addRow = (r: MetricsRow): void => {
  const tr = document.createElement("tr");
  for (const v of [
    r.method,
    pct(1 - r.accuracy),
    pct(r.accuracy),
    r.nll.toFixed(4),
    r.ece.toFixed(4),
    r.brier.toFixed(4),
  ]) {
    const td = document.createElement("td");
    td.textContent = v;
    tr.append(td);
  }
  tr.dataset.method = r.method.split(" ")[0]!.toLowerCase();
  $("calibration").querySelector("tbody")!.append(tr);
};

// ---------------------------------------------------------------------------------------------
// the worker
// ---------------------------------------------------------------------------------------------

let worker: Worker | null = null;
let running: Settings | null = null;
let totalSteps = 1;

const setStatus = (text: string): void => {
  state.status = text;
  $("status").textContent = text;
};

const send = (m: ToWorker, transfer: Transferable[] = []): void => {
  if (worker === null) {
    worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (ev: MessageEvent<FromWorker>) => {
      handle(ev.data).catch((e: unknown) => fail(String(e)));
    };
    worker.onerror = (ev) => fail(`worker: ${ev.message}`);
  }
  worker.postMessage(m, transfer);
};

const fail = (message: string): void => {
  state.error = message;
  setStatus(`error: ${message}`);
  $<HTMLButtonElement>("train").disabled = false;
  $<HTMLButtonElement>("pause").disabled = true;
};

const handle = async (m: FromWorker): Promise<void> => {
  switch (m.type) {
    case "backend":
      state.backend = m.backend;
      state.threads = m.threads;
      state.isolated = m.isolated;
      $("backend").textContent =
        `${m.backend}${m.backend === "wasm" ? `, ${m.threads} thread${m.threads === 1 ? "" : "s"}` : ""} (${m.detail}; page ${m.isolated ? "" : "not "}cross-origin isolated)`;
      break;
    case "status":
      setStatus(m.text);
      break;
    case "plan":
      totalSteps = m.totalSteps;
      lrView = await draw("lr-chart", scheduleSpec(m.rows));
      errView = await draw("error-chart", errorSpec(m.budgetStep));
      break;
    case "progress":
      state.lastStep = m.done;
      ($("progress") as HTMLProgressElement).value = m.done / totalSteps;
      $("steps").textContent =
        `${m.done} / ${totalSteps} steps (${m.track}, lr ${m.lr.toPrecision(3)}, loss ${m.loss.toFixed(3)})`;
      if (m.samplesPerSec > 0) {
        state.speeds.push(m.samplesPerSec);
        $("speed").textContent = m.samplesPerSec.toFixed(0);
      }
      lrView?.view
        .change(
          "current",
          vega
            .changeset()
            .remove(() => true)
            .insert([{ step: m.step }]),
        )
        .run();
      break;
    case "point":
      state.points++;
      $("latest").textContent = `${m.track}: ${pct(m.testError)}`;
      if (m.track === "swa") $("swa-n").textContent = String(m.models);
      if (m.track === "fge") $("fge-n").textContent = String(m.models);
      errView?.view
        .change(
          "points",
          vega
            .changeset()
            .insert([
              { step: m.step + 1, error: 100 * m.testError, track: m.track, models: m.models },
            ]),
        )
        .run();
      break;
    case "paused":
      state.paused = true;
      setStatus("paused");
      $("pause").textContent = "Resume";
      break;
    case "resumed":
      state.paused = false;
      setStatus("training");
      $("pause").textContent = "Pause";
      break;
    case "final":
      state.rows = [...m.rows];
      for (const r of m.rows) addRow(r);
      state.swaError = 1 - (m.rows.find((r) => r.method.startsWith("SWA"))?.accuracy ?? Number.NaN);
      break;
    case "geometry":
      await draw(
        "segment-chart",
        segmentPlotSpec(
          m.segment,
          [
            { metric: "trainLoss", title: "train loss" },
            { metric: "testError", title: "test error (%)", percent: true },
          ],
          {
            endLabels: ["SWA", "SGD"],
            title: "Segment from SWA (0) through SGD",
            width: 420,
            height: 240,
          },
        ),
      );
      await draw(
        "plane-chart",
        planeContourSpec(m.plane, {
          metric: "trainLoss",
          labels: m.planeLabels,
          title: `Train loss on the plane through ${m.planeTitle}`,
          width: 360,
          height: 360,
        }),
      );
      break;
    case "done":
      state.done = true;
      state.leaked = m.leaked;
      setStatus(`done in ${m.seconds.toFixed(1)} s`);
      $<HTMLButtonElement>("export").disabled = false;
      $<HTMLButtonElement>("pause").disabled = true;
      $<HTMLButtonElement>("train").disabled = false;
      break;
    case "exported": {
      const name = `wider-swa-${running?.dataset ?? "data"}-${running?.model ?? "model"}`;
      const tar = writeTar(
        [
          { name: "manifest.json", data: new TextEncoder().encode(m.manifestText) },
          { name: m.blobName, data: m.blob },
        ],
        Date.now() / 1000,
      );
      const a = document.createElement("a");
      a.href = URL.createObjectURL(
        new Blob([tar as Uint8Array<ArrayBuffer>], { type: "application/x-tar" }),
      );
      a.download = `${name}.tar`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      setStatus(`exported ${a.download}`);
      break;
    }
    case "imported":
      state.importedError = 1 - m.row.accuracy;
      addRow(m.row);
      setStatus(`imported: test error ${pct(1 - m.row.accuracy)}`);
      break;
    case "error":
      fail(m.message);
      break;
  }
};

// ---------------------------------------------------------------------------------------------
// buttons
// ---------------------------------------------------------------------------------------------

$("train").addEventListener("click", () => {
  const { settings, problems } = readForm();
  showProblems(problems);
  if (problems.length > 0) return;
  if (state.done || running !== null) reset();
  running = settings;
  state.error = null;
  setStatus("starting");
  $<HTMLButtonElement>("train").disabled = true;
  $<HTMLButtonElement>("pause").disabled = false;
  send({ type: "start", settings, base });
});

$("pause").addEventListener("click", () => {
  send({ type: state.paused ? "resume" : "pause" });
});

const reset = (): void => {
  worker?.terminate();
  worker = null;
  running = null;
  Object.assign(state, {
    status: "ready",
    backend: null,
    paused: false,
    done: false,
    leaked: null,
    points: 0,
    lastStep: 0,
    speeds: [],
    swaError: null,
    importedError: null,
    rows: [],
    error: null,
  });
  clearPlots();
  setStatus("ready");
  for (const id of ["swa-n", "fge-n"]) $(id).textContent = "0";
  for (const id of ["speed", "latest"]) $(id).textContent = "-";
  $("steps").textContent = "";
  ($("progress") as HTMLProgressElement).value = 0;
  $("pause").textContent = "Pause";
  $<HTMLButtonElement>("pause").disabled = true;
  $<HTMLButtonElement>("export").disabled = true;
  $<HTMLButtonElement>("train").disabled = false;
};
$("reset").addEventListener("click", reset);

$("export").addEventListener("click", () => send({ type: "export" }));

$<HTMLInputElement>("import-file").addEventListener("change", async (ev) => {
  const file = (ev.target as HTMLInputElement).files?.[0];
  if (file === undefined) return;
  try {
    const files = readTar(new Uint8Array(await file.arrayBuffer()));
    const manifest = files.find((f) => f.name === "manifest.json");
    if (manifest === undefined)
      throw new Error(`${file.name} holds no manifest.json; choose a .tar this page exported`);
    const manifestText = new TextDecoder().decode(manifest.data);
    const blobName = (JSON.parse(manifestText) as { blob?: unknown }).blob;
    const blob = files.find((f) => f.name === blobName);
    if (blob === undefined)
      throw new Error(`${file.name} lacks ${String(blobName)}, the blob its manifest names`);
    const { settings, problems } = readForm();
    showProblems(problems);
    if (problems.length > 0) return;
    setStatus(`importing ${file.name}`);
    send({ type: "import", manifestText, blob: blob.data, settings, base }, [blob.data.buffer]);
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
});
