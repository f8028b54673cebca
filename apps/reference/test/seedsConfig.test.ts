import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../src/config.js";
import { readSeedsConfig, seedsConfigFile } from "../src/seeds.js";

describe("readSeedsConfig", () => {
  it("reads a multi-seed run's config written before a field existed (defaults filled in)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wider-seeds-config-"));
    const { trajectoryGrid: _dropped, ...old } = defaultConfig(new Date(0));
    writeFileSync(seedsConfigFile(dir), JSON.stringify({ ...old, out: dir }));
    const c = await readSeedsConfig(dir);
    expect(c.trajectoryGrid).toBe(defaultConfig().trajectoryGrid);
    expect(c.out).toBe(dir);
  });
  it("refuses a file that is not a run configuration, with the fix", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wider-seeds-config-"));
    writeFileSync(seedsConfigFile(dir), JSON.stringify({ epochs: "many" }));
    await expect(readSeedsConfig(dir)).rejects.toThrow(/is not a valid run configuration/);
  });
});
