import { describe, expect, it } from "vitest";
import { packageName } from "../src/index.js";

describe("package", () => {
  it("has its name", () => {
    expect(packageName).toBe("@wider/schedules");
  });
});
