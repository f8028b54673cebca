/**
 * Backend selection: the absent-module path really runs here (@tensorflow/tfjs-node and
 * -gpu are not installed); broken installs and a working native backend are simulated
 * through the `importModule` option.
 */
import * as tf from "@tensorflow/tfjs";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { isWiderError } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { afterEach, describe, expect, it } from "vitest";
import { autoOrder, selectBackend } from "../src/index.js";

afterEach(() => {
  if (tf.findBackendFactory("tensorflow") !== null) tf.removeBackend("tensorflow");
});

describe("selectBackend", () => {
  it("auto: reports tfjs-node-gpu and tfjs-node as not installed, then picks wasm", async () => {
    const choice = await selectBackend("auto");
    expect(E.isRight(choice)).toBe(true);
    if (E.isLeft(choice)) return;
    expect(choice.right.backend).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(choice.right.tried.map((t) => t.candidate)).toEqual(autoOrder.slice(0, 3));
    expect(choice.right.tried[0]).toEqual({
      candidate: "tensorflow-gpu",
      ok: false,
      reason: "@tensorflow/tfjs-node-gpu: not installed",
    });
    expect(choice.right.tried[1]?.reason).toBe("@tensorflow/tfjs-node: not installed");
    expect(choice.right.reason).toMatch(/training kernels/);
    // The wasm backend it selected trains convolutions: 5x5 ones, 3x3 filter, stride 2, same
    // padding (1 before): each filter tap sees 2, 3, 2 valid rows (and columns).
    const g = tf.grad((w: tf.Tensor) =>
      tf.conv2d(tf.ones([1, 5, 5, 1]) as tf.Tensor4D, w as tf.Tensor4D, 2, "same").sum(),
    );
    expect(Array.from(g(tf.ones([3, 3, 1, 1])).dataSync())).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4]);
  });

  it("forced tensorflow when absent: Left naming the module and the install command", async () => {
    const choice = await selectBackend("tensorflow");
    expect(E.isLeft(choice)).toBe(true);
    if (E.isRight(choice)) return;
    expect(choice.left.message).toContain("@tensorflow/tfjs-node: not installed");
    expect(choice.left.message).toContain("npm install @tensorflow/tfjs-node@4.22.0");
    expect(choice.left.tried).toHaveLength(1);
    // The one Wider error shape: a returned BackendError of a shared kind.
    expect(isWiderError(choice.left)).toBe(true);
    expect(choice.left).toMatchObject({
      _tag: "BackendError",
      kind: "unsupported",
      path: "preference",
      value: "tensorflow",
      preference: "tensorflow",
    });
    expect(choice.left.fix).toContain("npm install @tensorflow/tfjs-node@4.22.0");
  });

  it("forced tensorflow-gpu when absent: Left with the tfjs-node-gpu install fix", async () => {
    const choice = await selectBackend("tensorflow-gpu");
    expect(E.isLeft(choice) && choice.left.message).toContain(
      "npm install @tensorflow/tfjs-node-gpu@4.22.0",
    );
  });

  it("a broken native install is reported, not thrown, and auto falls through", async () => {
    const importModule = async (specifier: string): Promise<unknown> => {
      throw new Error(`${specifier}: libtensorflow.so.2: cannot open shared object file\nstack...`);
    };
    const choice = await selectBackend("auto", { importModule });
    expect(E.isRight(choice) && choice.right.backend).toBe("wasm");
    if (E.isLeft(choice)) return;
    expect(choice.right.tried[0]?.reason).toBe(
      "@tensorflow/tfjs-node-gpu: failed to load: @tensorflow/tfjs-node-gpu: libtensorflow.so.2: cannot open shared object file",
    );
  });

  it("an installed package whose native binding is missing is 'failed to load', not 'not installed'", async () => {
    const binding = "/app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node";
    const importModule = async (): Promise<unknown> => {
      throw Object.assign(new Error(`Cannot find module '${binding}'`), {
        code: "MODULE_NOT_FOUND",
      });
    };
    const choice = await selectBackend("tensorflow", { importModule });
    expect(E.isLeft(choice) && choice.left.tried[0]?.reason).toBe(
      `@tensorflow/tfjs-node: failed to load: Cannot find module '${binding}'`,
    );
  });

  it("a module that loads but registers no backend is detected", async () => {
    const choice = await selectBackend("tensorflow", { importModule: async () => ({}) });
    expect(E.isLeft(choice) && choice.left.message).toMatch(/registered no 'tensorflow' backend/);
  });

  it("auto picks a working native backend first", async () => {
    const importModule = async (specifier: string): Promise<unknown> => {
      if (specifier !== "@tensorflow/tfjs-node")
        throw Object.assign(new Error("Cannot find package"), { code: "ERR_MODULE_NOT_FOUND" });
      // Stand-in for what tfjs-node does on import: register a 'tensorflow' backend.
      tf.registerBackend("tensorflow", () => new MathBackendCPU(), 3);
      return {};
    };
    const choice = await selectBackend("auto", { importModule });
    expect(E.isRight(choice)).toBe(true);
    if (E.isLeft(choice)) return;
    expect(choice.right).toMatchObject({ candidate: "tensorflow", backend: "tensorflow" });
    expect(choice.right.tried.map((t) => [t.candidate, t.ok])).toEqual([
      ["tensorflow-gpu", false],
      ["tensorflow", true],
    ]);
    expect(tf.getBackend()).toBe("tensorflow");
    await tf.setBackend("cpu");
  });

  it("forced cpu and wasm", async () => {
    const cpu = await selectBackend("cpu");
    expect(E.isRight(cpu) && cpu.right.backend).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    const wasm = await selectBackend("wasm");
    expect(E.isRight(wasm) && wasm.right.backend).toBe("wasm");
  });
});
