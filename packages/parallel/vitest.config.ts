import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    // Each test starts worker threads; run the files one after another on the shared cores.
    fileParallelism: false,
  },
});
