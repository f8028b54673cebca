/**
 * Rendering of Vega and Vega-Lite specifications to SVG strings in Node, without a browser or a
 * canvas (Vega's headless `renderer: "none"` view and its SVG string renderer).
 *
 * @module
 */
import * as vega from "vega";
import * as vl from "vega-lite";

/**
 * Renders a Vega specification to an SVG document string.
 *
 * @example
 * const svg = await renderVegaToSvg(planeContourSpec(results, { metric: "trainLoss", cap: 5 }));
 */
export const renderVegaToSvg = async (spec: vega.Spec): Promise<string> => {
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
};

/**
 * Compiles a Vega-Lite specification to Vega and renders it to an SVG document string.
 *
 * @example
 * const svg = await renderVegaLiteToSvg({ data: { values: [{ x: 0, y: 1 }] }, mark: "point",
 *   encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } } });
 */
export const renderVegaLiteToSvg = (spec: vl.TopLevelSpec): Promise<string> =>
  renderVegaToSvg(vl.compile(spec).spec);
