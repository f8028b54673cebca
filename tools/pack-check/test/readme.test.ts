// Every package README as a user reads it: install lines name @tensorflow/tfjs, no pointer at a
// file the tarball does not ship or at workspace-only commands, and every ```ts / ```js block
// runs as written, importing the built packages by name as a user's project does. A block that
// is not meant to run (an API listing) is marked by a `<!-- not-run: reason -->` line right
// before it; the test requires the reason.
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { publishedPackages, repoRoot } from "./packages.js";

/** One fenced code block of a README. */
interface Block {
  readonly lang: string;
  readonly code: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The reason of a `<!-- not-run: reason -->` marker right before the fence, if any. */
  readonly notRun: string | undefined;
}

/** The fenced blocks of a Markdown text, with their not-run markers. */
export const fencedBlocks = (markdown: string): Block[] => {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`unclosed code fence at line ${i + 1}`);
    let k = i - 1;
    while (k >= 0 && lines[k]!.trim() === "") k--;
    const marker = k >= 0 ? /^<!--\s*not-run:(.*)-->\s*$/.exec(lines[k]!) : null;
    blocks.push({
      lang: open[1] ?? "",
      code: lines.slice(i + 1, end).join("\n"),
      line: i + 1,
      notRun: marker === null ? undefined : marker[1]!.trim(),
    });
    i = end;
  }
  return blocks;
};

const runnable = (b: Block): boolean => ["ts", "js", "typescript", "javascript"].includes(b.lang);

// Generated modules live in this tool's folder, so `@wider/*` resolve to the built packages.
const generated = join(repoRoot, "tools/pack-check/.readme");
const scratch = mkdtempSync(join(tmpdir(), "wider-readme-"));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(generated, { recursive: true, force: true });
});

/** Imports `code` as a module with the scratch folder as working directory. */
const runModule = async (name: string, code: string): Promise<void> => {
  mkdirSync(generated, { recursive: true });
  const file = join(generated, `${name}-${randomUUID()}.ts`);
  writeFileSync(`${file}.tmp`, `${code}\nexport {};\n`);
  renameSync(`${file}.tmp`, file);
  const cwd = process.cwd();
  const dir = mkdtempSync(join(scratch, `${name}-`));
  process.chdir(dir);
  try {
    await tf.setBackend("cpu");
    await import(/* @vite-ignore */ file);
  } finally {
    process.chdir(cwd);
    rmSync(file, { force: true });
  }
};

describe.each(publishedPackages().map((p) => [p.name, p] as const))("%s README", (name, pkg) => {
  const readme = readFileSync(join(pkg.dir, "README.md"), "utf8");
  const blocks = fencedBlocks(readme);
  const short = name.replace("@wider/", "");

  const peers = (pkg.manifest as { peerDependencies?: Record<string, string> }).peerDependencies;
  it("has install lines, naming @tensorflow/tfjs where it is a peer", () => {
    const installs = blocks
      .filter((b) => b.lang === "sh")
      .flatMap((b) => b.code.split("\n"))
      .filter((l) => /^(npm install|pnpm add|yarn add) /.test(l));
    expect(installs.length, "an install line").toBeGreaterThan(0);
    expect(installs.every((l) => l.includes(` ${name}`))).toBe(true);
    if (peers?.["@tensorflow/tfjs-core"] !== undefined) {
      for (const l of installs) expect(l).toMatch(/ @tensorflow\/tfjs(@[\w.^~]+)?( |$)/);
    }
  });

  it("points at nothing a user does not get", () => {
    for (const bad of ["pnpm --filter", "REFERENCE.md", "examples/", "scripts/setup.sh"]) {
      expect(readme, `README mentions "${bad}"`).not.toContain(bad);
    }
  });

  it("marks every block that does not run, with a reason", () => {
    for (const b of blocks)
      if (b.notRun !== undefined) expect(b.notRun, `line ${b.line}`).not.toBe("");
    expect(blocks.filter((b) => runnable(b) && b.notRun === undefined).length).toBeGreaterThan(0);
  });

  for (const [i, b] of blocks.entries()) {
    if (!runnable(b) || b.notRun !== undefined) continue;
    it(`block at line ${b.line} runs as written`, async () => {
      await runModule(`${short}-${i}`, b.code);
    });
  }
});
