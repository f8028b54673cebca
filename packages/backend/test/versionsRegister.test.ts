// Registration with a faked @tensorflow/tfjs-backend-wasm version: refused before any kernel is
// replaced, with the installed and required versions in the message.
import { getKernel } from "@tensorflow/tfjs-core";
import { expect, it, vi } from "vitest";

vi.mock("@tensorflow/tfjs-backend-wasm", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@tensorflow/tfjs-backend-wasm")>()),
  version_wasm: "4.21.0",
}));

it("registerWasmTrainingKernels refuses another tfjs-backend-wasm version", async () => {
  const { registerWasmTrainingKernels, swaUpdateKernelName } = await import("../src/index.js");
  expect(() => registerWasmTrainingKernels()).toThrow(
    /exactly 4\.22\.0 .*but @tensorflow\/tfjs-backend-wasm 4\.21\.0 is installed\. Fix: install @tensorflow\/tfjs@4\.22\.0/,
  );
  // Nothing was registered: the guard runs first.
  expect(getKernel(swaUpdateKernelName, "wasm")).toBeUndefined();
  // And a second call still refuses (the failed call did not mark the kernels registered).
  expect(() => registerWasmTrainingKernels()).toThrow(/4\.21\.0 is installed/);
});
