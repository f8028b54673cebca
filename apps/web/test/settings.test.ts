import { describe, expect, it } from "vitest";
import { defaultSettings, parseSettings, settingsQuery } from "../src/settings.js";

describe("settings from the URL or the form", () => {
  it("defaults are valid and small", () => {
    const r = parseSettings([]);
    expect(r.problems).toEqual([]);
    expect(r.settings).toEqual(defaultSettings);
  });

  it("reads numbers and choices, and round-trips through the query", () => {
    const r = parseSettings(
      new URLSearchParams("epochs=4&swaStart=2&lr=0.1&model=cnn-bn&backend=wasm&threads=off"),
    );
    expect(r.problems).toEqual([]);
    expect(r.settings).toMatchObject({
      epochs: 4,
      swaStart: 2,
      lr: 0.1,
      model: "cnn-bn",
      backend: "wasm",
      threads: "off",
    });
    expect(parseSettings(new URLSearchParams(settingsQuery(r.settings))).settings).toEqual(
      r.settings,
    );
  });

  it("names the field, the value and the fix for bad input", () => {
    const r = parseSettings(
      new URLSearchParams("epochs=0&lr=-1&momentum=1&model=resnet&batchSize=2.5&nope=1"),
    );
    expect(r.problems).toEqual(
      expect.arrayContaining([
        'epochs: got "0"; expected a whole number >= 1',
        'lr: got "-1"; expected a number > 0',
        'momentum: got "1"; expected a number in [0, 1)',
        'model: got "resnet"; expected one of mlp, cnn, cnn-bn',
        'batchSize: got "2.5"; expected a whole number >= 1',
      ]),
    );
    expect(r.problems.some((p) => p.startsWith("nope: not a setting"))).toBe(true);
  });

  it("checks fields against each other", () => {
    const p = (q: string) => parseSettings(new URLSearchParams(q)).problems;
    expect(p("epochs=3&swaStart=3")[0]).toMatch(
      /^swaStart: 3 must be between 1 and epochs - 1 \(2\)/,
    );
    expect(p("trainSubset=100&batchSize=200&geometrySubset=50")[0]).toMatch(
      /^batchSize: 200 is larger than trainSubset 100/,
    );
    expect(p("testSubset=100")[0]).toMatch(/^geometrySubset: 500 is more than/);
  });
});
