import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    // The end-to-end file drives one browser; the unit files are quick.
    fileParallelism: false,
  },
});
