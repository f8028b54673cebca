/**
 * Rendering of Vega and Vega-Lite specifications to SVG strings in Node, without a browser or a
 * canvas (Vega's headless `renderer: "none"` view and its SVG string renderer).
 *
 * `vega` and `vega-lite` are optional peer dependencies, loaded on the first render: the `*Spec`
 * functions of `plots.ts` produce specifications without them; rendering without them rejects with
 * an error that says what to install.
 *
 * @module
 */
import type * as vega from "vega";
import type * as vl from "vega-lite";
import { fail } from "./errors.js";

/** The install line for the renderers, in the error when they are missing. */
const INSTALL = "npm install vega@^5.33.1 vega-lite@^5.23.0";

/** True when `cause` says that the module `name` itself is not installed. */
const isMissing = (cause: unknown, name: string): boolean => {
  const code = (cause as { code?: unknown } | null)?.code;
  const message = cause instanceof Error ? cause.message : "";
  return (
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    (message.includes(`'${name}'`) || message.includes(`"${name}"`))
  );
};

/** Imports an optional peer, or throws an `unsupported` GeometryError naming it and the install line. */
const optionalPeer = async <M>(name: "vega" | "vega-lite", load: () => Promise<M>): Promise<M> => {
  try {
    return await load();
  } catch (cause) {
    if (!isMissing(cause, name)) throw cause;
    return fail(
      "unsupported",
      `@wider/geometry: rendering plots to SVG needs the optional peer dependencies vega and vega-lite, and ${name} is not installed; install them (${INSTALL}). The *Spec functions (rayPlotSpec, segmentPlotSpec, planeContourSpec, planeTrajectorySpec) work without them.`,
      { path: name, fix: INSTALL },
    );
  }
};

/**
 * Renders a Vega specification to an SVG document string. Needs the optional peer `vega`.
 *
 * @example
 * const svg = await renderVegaToSvg(planeContourSpec(results, { metric: "trainLoss", cap: 5 }));
 */
export const renderVegaToSvg = async (spec: vega.Spec): Promise<string> => {
  const v = await optionalPeer("vega", () => import("vega"));
  const view = new v.View(v.parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
};

/**
 * Compiles a Vega-Lite specification to Vega and renders it to an SVG document string. Needs the
 * optional peers `vega-lite` and `vega`.
 *
 * @example
 * const svg = await renderVegaLiteToSvg({ data: { values: [{ x: 0, y: 1 }] }, mark: "point",
 *   encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } } });
 */
export const renderVegaLiteToSvg = async (spec: vl.TopLevelSpec): Promise<string> => {
  const compiler = await optionalPeer("vega-lite", () => import("vega-lite"));
  return renderVegaToSvg(compiler.compile(spec).spec);
};
