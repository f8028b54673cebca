/**
 * Seeded randomness for data order: the same seed gives the same permutation on every machine.
 *
 * @module
 */

/** Mixes a list of integers into one 32-bit seed (so `(dataSeed, epoch)` pairs give distinct streams). */
export const mixSeed = (...parts: readonly number[]): number => {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return h >>> 0;
};

/** mulberry32: a small, fast, seeded 32-bit generator of floats in [0, 1). */
export const mulberry32 = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** A seeded Fisher-Yates permutation of `0..n-1`. */
export const permutation = (n: number, seed: number): Uint32Array => {
  const rand = mulberry32(seed);
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = p[i] as number;
    p[i] = p[j] as number;
    p[j] = tmp;
  }
  return p;
};
