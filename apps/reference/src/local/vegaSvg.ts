/**
 * LOCAL STAND-IN for `renderVegaLiteToSvg` of `@wider/geometry` (TODO(@wider/geometry): replace
 * with the package's export once it lands): compiles a Vega-Lite spec with `vega-lite` and
 * renders it to an SVG string with `vega` in Node, no browser and no canvas.
 *
 * @module
 */
import * as vega from "vega";
import * as vl from "vega-lite";

/** Renders a Vega-Lite spec to a standalone SVG string. */
export const renderVegaLiteToSvg = async (spec: vl.TopLevelSpec): Promise<string> => {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
};
