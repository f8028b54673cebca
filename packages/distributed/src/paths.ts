/**
 * Path confinement: a job names files only inside the directories its worker was given. Paths are
 * resolved against a root, `..` and absolute paths outside every root are refused, and symbolic
 * links are followed (through the deepest existing ancestor) so a link cannot lead out either.
 *
 * @module
 */
import { realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import type * as E from "fp-ts/lib/Either.js";
import { attemptSync, type DistributedError, fail } from "./errors.js";

/** `p` with symbolic links resolved as far as it exists (the rest appended as written). */
const realpathDeep = (p: string): string => {
  let head = p;
  const tail: string[] = [];
  for (;;) {
    try {
      const real = realpathSync(head);
      return tail.length === 0 ? real : resolve(real, ...tail.reverse());
    } catch {
      const up = dirname(head);
      if (up === head) return p;
      tail.push(head.slice(up.length).replace(/^[\\/]+/, ""));
      head = up;
    }
  }
};

const inside = (root: string, p: string): boolean => {
  const r = relative(root, p);
  return r === "" || (!r.startsWith(`..${sep}`) && r !== ".." && !isAbsolute(r));
};

/**
 * Resolves `p` (relative paths against `roots[0]`) and returns its absolute real path when it lies
 * inside one of `roots`; otherwise a `Left<DistributedError>` (`kind: "config"`, `path` the path)
 * naming the path and the allowed directories (the path comes from a job or a config).
 *
 * @example
 * confine(["/srv/wider"], "runs/ab12") // Right("/srv/wider/runs/ab12")
 * confine(["/srv/wider"], "../etc/passwd") // Left: outside the worker's directories
 */
export const confine = (
  roots: readonly string[],
  p: string,
  what = "path",
): E.Either<DistributedError, string> => attemptSync(() => confined(roots, p, what));

const confined = (roots: readonly string[], p: string, what: string): string => {
  const first = roots[0];
  if (first === undefined) fail("config", `${what}: no directory is configured for this worker`);
  if (typeof p !== "string" || p.length === 0 || p.includes("\0"))
    fail("config", `${what}: ${JSON.stringify(p)} is not a usable path`, { path: what, value: p });
  const candidate = realpathDeep(resolve(first, p));
  for (const root of roots) if (inside(realpathDeep(resolve(root)), candidate)) return candidate;
  fail(
    "config",
    `${what}: ${JSON.stringify(p)} lies outside the worker's directories (${roots.join(", ")}); a job may only name files inside them: give the worker the directory (--dir/--read) or change the job`,
    {
      path: what,
      value: p,
      fix: "give the worker the directory (--dir/--read) or change the job",
    },
  );
};
