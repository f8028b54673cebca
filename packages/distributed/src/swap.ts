/**
 * SWAP (Gupta et al. 2020, "Stochastic Weight Averaging in Parallel"): phase 1 trains one model
 * (the caller, on one machine); phase 2 enqueues W member jobs that continue from the phase-1
 * weights, each with its own data order (and, in the paper, small batches); phase 3 averages the
 * members' final weights with `@wider/averaging`'s SWA running mean. BatchNorm re-estimation and
 * evaluation of the average are the caller's (they need its model and data).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { disposeState, swa } from "@wider/averaging";
import { disposeWeights, type Json, loadWeights, saveWeights, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import type { Redis } from "ioredis";
import { attempt, type DistributedError, fail } from "./errors.js";
import { fingerprint } from "./fingerprint.js";
import { Fingerprint, keys, parseOrFail, type SwapJob } from "./jobs.js";
import { type EnqueueSummary, enqueueOrFail, readResultsOrFail } from "./store.js";

/** A SWAP run as recorded in Redis. */
export const SwapRecord = t.type({
  swapId: t.string,
  from: t.string,
  members: t.array(Fingerprint),
});
/** A recorded SWAP run. */
export type SwapRecord = t.TypeOf<typeof SwapRecord>;

/** Options of {@link submitSwap}. */
export interface SubmitSwapOptions {
  readonly redis: string;
  readonly queue: string;
  readonly client: Redis;
  readonly sharedDir: string;
  /** Names the run's directory `swap/<swapId>` (letters, digits, `.`, `_`, `-`). */
  readonly swapId: string;
  /** The phase-1 weights every member starts from (saved once; the tensors stay the caller's). */
  readonly start: Weights;
  /** W, the number of members. */
  readonly members: number;
  /** Member `m`'s task (its data seed, epochs, batch size, …), read by the worker's `swap` handler. */
  readonly task: (member: number) => Readonly<Record<string, Json>>;
}

/**
 * Saves the phase-1 weights under `<sharedDir>/swap/<swapId>/start` and enqueues the W members.
 * Bad options written in code (`swapId`, `members`) throw (`config`); weights that cannot be saved
 * (`io`), a re-submission with other members (`conflict`), a record that does not decode
 * (`corrupt`) or a Redis failure (`io`) is a `Left`.
 */
export const submitSwap = (
  options: SubmitSwapOptions,
): Promise<E.Either<DistributedError, { summary: EnqueueSummary; jobs: SwapJob[] }>> => {
  const { swapId } = options;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(swapId))
    fail("config", `swapId ${JSON.stringify(swapId)}: use letters, digits, ".", "_", "-"`);
  if (!Number.isInteger(options.members) || options.members < 1)
    fail("config", `members: ${options.members} is not a positive integer`);
  return attempt(() => submitChecked(options));
};

const submitChecked = async (
  options: SubmitSwapOptions,
): Promise<{ summary: EnqueueSummary; jobs: SwapJob[] }> => {
  const { swapId, client, queue } = options;
  const from = join("swap", swapId, "start");
  const abs = join(options.sharedDir, from);
  if (!existsSync(join(abs, "manifest.json"))) {
    const saved = await saveWeights(abs, options.start);
    if (E.isLeft(saved))
      fail("io", `cannot save the phase-1 weights to ${abs}: ${saved.left.message}`);
  }
  const jobs: SwapJob[] = Array.from({ length: options.members }, (_, member) => {
    const inputs = { kind: "swap" as const, swapId, member, from, task: options.task(member) };
    return { ...inputs, fingerprint: fingerprint(inputs) };
  });
  const record: SwapRecord = { swapId, from, members: jobs.map((j) => j.fingerprint) };
  const previous = await client.hget(keys(queue).swaps, swapId);
  if (
    previous !== null &&
    parseOrFail(SwapRecord, previous, `SWAP ${swapId}`).members.join() !== record.members.join()
  )
    fail("conflict", `SWAP ${swapId} was submitted before with other members; use another swapId`);
  await client.hset(keys(queue).swaps, swapId, JSON.stringify(record));
  return { summary: await enqueueOrFail(options.redis, queue, client, jobs), jobs };
};

/** Where member `m` of `swapId` saves its final weights (relative to the shared directory). */
export const swapMemberDir = (swapId: string, member: number): string =>
  join("swap", swapId, `member-${member}`, "final");

/**
 * Phase 3: once every member's result is stored, loads their final weights and averages them
 * (SWA running mean, equal weights). Returns the mean (the caller's to dispose) and the members'
 * outputs. A run not submitted, a member still missing or whose weights cannot be loaded (`io`), a
 * record that does not decode (`corrupt`) or a Redis failure (`io`) is a `Left`.
 */
export const averageSwap = (
  client: Redis,
  queue: string,
  sharedDir: string,
  swapId: string,
): Promise<E.Either<DistributedError, { mean: Weights; outputs: unknown[] }>> =>
  attempt(async () => {
    const text = await client.hget(keys(queue).swaps, swapId);
    if (text === null) fail("io", `no SWAP run ${swapId} in queue ${queue}; submit it first`);
    const record = parseOrFail(SwapRecord, text, `SWAP ${swapId}`);
    const results = await readResultsOrFail(client, queue, record.members);
    const missing = record.members.filter((fp) => !results.has(fp)).length;
    if (missing > 0)
      fail(
        "io",
        `SWAP ${swapId}: ${missing} of ${record.members.length} members have not finished; wait for them`,
      );
    const averager = swa();
    let state = averager.init();
    try {
      for (let m = 0; m < record.members.length; m++) {
        const loaded = await loadWeights(join(sharedDir, swapMemberDir(swapId, m)));
        if (E.isLeft(loaded)) fail("io", `SWAP ${swapId} member ${m}: ${loaded.left.message}`);
        state = averager.update(state, loaded.right.weights);
        disposeWeights(loaded.right.weights);
      }
    } catch (e) {
      disposeState(state);
      throw e;
    }
    const mean = state.mean;
    if (mean === null) throw new Error("unreachable: SWAP has at least one member");
    return { mean, outputs: record.members.map((fp) => results.get(fp)?.output ?? null) };
  });
