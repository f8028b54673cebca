/**
 * A small seeded pseudo-random generator (mulberry32) and a Fisher–Yates shuffle built
 * on it. Only 32-bit integer arithmetic and exact float products are used, so the same
 * seed gives the same sequence on every machine and JS engine
 * (`scripts/random_reference.py` reimplements both; `test/fixtures/random.json` holds its output).
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A stateful stream of pseudo-random numbers. */
export interface Rng {
  /** The next uniform integer in [0, 2^32). */
  readonly nextUint32: () => number;
  /** The next uniform float in [0, 1): `nextUint32() / 2^32`. */
  readonly nextFloat: () => number;
  /** The next integer in [0, n) for 1 <= n <= 2^21: `floor(nextUint32() * n / 2^32)`. */
  readonly nextInt: (n: number) => number;
}

const TWO_POW_32 = 4294967296;

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * mulberry32 (Tommy Ettinger): a 32-bit state advanced by a Weyl step and hashed.
 * @example
 * const rng = mulberry32(0);
 * rng.nextUint32(); // 1144304738, on every machine
 */
export const mulberry32 = (seed: number): Rng => {
  let state = seed | 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    nextUint32,
    nextFloat: () => nextUint32() / TWO_POW_32,
    // The product of a uint32 and n <= 2^21 is below 2^53, so it is exact everywhere.
    nextInt: (n: number) => Math.floor((nextUint32() * n) / TWO_POW_32),
  };
};

/**
 * Derives an independent seed for sub-stream `stream` of `seed` (e.g. one per batch),
 * by hashing both through one mulberry32 step.
 * @example
 * deriveSeed(7, 0) !== deriveSeed(7, 1); // true
 */
export const deriveSeed = (seed: number, stream: number): number =>
  mulberry32((Math.imul(seed | 0, 0x9e3779b1) ^ (stream | 0)) | 0).nextUint32();

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * The permutation of 0..count-1 given by a Fisher–Yates shuffle with `mulberry32(seed)`:
 * for i from count-1 down to 1, swap i with `nextInt(i + 1)`.
 * @example
 * shuffledIndices(5, 0); // the same Int32Array on every machine
 */
export const shuffledIndices = (count: number, seed: number): Int32Array => {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const rng = mulberry32(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const tmp = order[i] ?? 0;
    order[i] = order[j] ?? 0;
    order[j] = tmp;
  }
  return order;
};
