/**
 * The exact TensorFlow.js versions the wasm training kernels are built against. They use
 * internals of @tensorflow/tfjs-backend-wasm (its heap, `dataIdMap`, the C++ kernel table), so
 * another version is refused at registration with the installed and required versions.
 */
import { version_wasm } from "@tensorflow/tfjs-backend-wasm";
import { version_core } from "@tensorflow/tfjs-core";
import { fail } from "./errors.js";

/** The one @tensorflow/tfjs-core and @tensorflow/tfjs-backend-wasm version the kernels support. */
export const requiredTfjsVersion = "4.22.0";

/** The installed versions that matter to the wasm kernels. */
export interface InstalledTfjsVersions {
  readonly core: string;
  readonly wasm: string;
}

/** The versions of @tensorflow/tfjs-core and @tensorflow/tfjs-backend-wasm this process loaded. */
export const installedTfjsVersions = (): InstalledTfjsVersions => ({
  core: version_core,
  wasm: version_wasm,
});

/**
 * Throws a `WiderFailure` (`BackendError`, kind `version`) naming the installed and required versions (and the fix) unless both
 * @tensorflow/tfjs-core and @tensorflow/tfjs-backend-wasm are exactly `requiredTfjsVersion`.
 *
 * @example
 * assertSupportedTfjs({ core: "4.21.0", wasm: "4.22.0" }); // throws: "... tfjs-core 4.21.0 ..."
 */
export function assertSupportedTfjs(
  installed: InstalledTfjsVersions = installedTfjsVersions(),
): void {
  const wrong = [
    ["@tensorflow/tfjs-core", installed.core],
    ["@tensorflow/tfjs-backend-wasm", installed.wasm],
  ].filter(([, v]) => v !== requiredTfjsVersion);
  if (wrong.length === 0) return;
  const fix =
    `install @tensorflow/tfjs@${requiredTfjsVersion} @tensorflow/tfjs-backend-wasm@${requiredTfjsVersion} ` +
    `(one copy of each: \`npm ls @tensorflow/tfjs-core\`, then \`npm dedupe\`), or do not ` +
    `register the kernels and use the plain wasm or cpu backend`;
  fail(
    "version",
    `@wider/backend: the wasm training kernels need @tensorflow/tfjs-core and ` +
      `@tensorflow/tfjs-backend-wasm exactly ${requiredTfjsVersion} (they use the wasm backend's ` +
      `internals), but ${wrong.map(([name, v]) => `${name} ${v}`).join(" and ")} ` +
      `${wrong.length === 1 ? "is" : "are"} installed. Fix: ${fix}.`,
    { path: wrong[0]?.[0] ?? "@tensorflow/tfjs-core", value: installed, fix },
  );
}
