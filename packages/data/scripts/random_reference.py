#!/usr/bin/env python3
"""Second, independent implementation of @wider/data's seeded randomness (mulberry32,
nextInt, Fisher-Yates shuffle, deriveSeed, planBatches), in plain Python integers.

Writes test/fixtures/random.json, which test/random.test.ts compares the TypeScript
implementation against. Run from packages/data: python3 scripts/random_reference.py
Needs only the Python standard library.
"""
import json
import os

M = 0xFFFFFFFF


def imul(a, b):
    """Math.imul on uint32 bit patterns: the low 32 bits of the product."""
    return (a * b) & M


class Mulberry32:
    def __init__(self, seed):
        self.state = seed & M

    def next_uint32(self):
        self.state = (self.state + 0x6D2B79F5) & M
        s = self.state
        t = imul(s ^ (s >> 15), 1 | s)
        t = ((t + imul(t ^ (t >> 7), 61 | t)) & M) ^ t
        return (t ^ (t >> 14)) & M

    def next_int(self, n):
        # floor(u / 2^32 * n) computed exactly with integers
        return (self.next_uint32() * n) >> 32


def shuffled_indices(count, seed):
    order = list(range(count))
    rng = Mulberry32(seed)
    for i in range(count - 1, 0, -1):
        j = rng.next_int(i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def derive_seed(seed, stream):
    return Mulberry32(imul(seed & M, 0x9E3779B1) ^ (stream & M)).next_uint32()


def plan_batches(count, batch_size, seed, shuffle=True, drop_remainder=False):
    order = shuffled_indices(count, seed) if shuffle else list(range(count))
    batches = []
    for start in range(0, count, batch_size):
        batch = order[start:start + batch_size]
        if drop_remainder and len(batch) < batch_size:
            break
        batches.append(batch)
    return batches


def main():
    seeds = [0, 1, 42, 123456789, 2**31 - 1, 2**32 - 1]
    fixture = {
        "generator": "scripts/random_reference.py",
        "uint32": [
            {"seed": s, "values": [r.next_uint32() for r in [Mulberry32(s)] for _ in range(16)]}
            for s in seeds
        ],
        "nextInt": [
            {"seed": s, "n": n, "values": [r.next_int(n) for r in [Mulberry32(s)] for _ in range(16)]}
            for s in [3, 99]
            for n in [1, 2, 10, 60000, 2**21]
        ],
        "shuffle": [
            {"count": c, "seed": s, "order": shuffled_indices(c, s)}
            for c, s in [(0, 0), (1, 5), (2, 0), (10, 0), (10, 1), (37, 2024), (100, 4294967295)]
        ],
        # A large shuffle is summarised by its first 32 entries and a position-weighted checksum.
        "shuffleLarge": [
            {
                "count": c,
                "seed": s,
                "head": order[:32],
                "weightedSum": sum(i * v for i, v in enumerate(order)),
            }
            for c, s in [(60000, 0), (50000, 7)]
            for order in [shuffled_indices(c, s)]
        ],
        "deriveSeed": [
            {"seed": s, "stream": k, "value": derive_seed(s, k)}
            for s in [0, 1, 4294967295]
            for k in [0, 1, 2, 468]
        ],
        "plans": [
            {"count": c, "batchSize": b, "seed": s, "shuffle": sh, "dropRemainder": d,
             "batches": plan_batches(c, b, s, sh, d)}
            for c, b, s, sh, d in [(10, 3, 5, True, False), (10, 3, 5, True, True),
                                   (7, 7, 1, True, False), (5, 2, 0, False, False)]
        ],
    }
    out = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "random.json")
    with open(out, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
