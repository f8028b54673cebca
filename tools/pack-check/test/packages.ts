// The published workspace packages, read from the repository so a new package is checked too.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root, two levels above this tool. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** One published package: its name and directory. */
export interface PublishedPackage {
  readonly name: string;
  readonly dir: string;
  readonly manifest: {
    readonly name: string;
    readonly exports: Record<string, unknown>;
    readonly private?: boolean;
  };
}

/** Every non-private package under `packages/`, sorted by name. */
export const publishedPackages = (): readonly PublishedPackage[] =>
  readdirSync(join(repoRoot, "packages"))
    .map((d) => join(repoRoot, "packages", d))
    .map((dir) => ({
      dir,
      manifest: JSON.parse(
        readFileSync(join(dir, "package.json"), "utf8"),
      ) as PublishedPackage["manifest"],
    }))
    .filter((p) => p.manifest.private !== true)
    .map((p) => ({ ...p, name: p.manifest.name }))
    .sort((a, b) => a.name.localeCompare(b.name));
