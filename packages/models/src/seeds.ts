/**
 * Seeded initializers. Every initializer of a model draws the next seed of one counter:
 * `seed * 1000 + i` for the i-th initializer (i = 1, 2, ...), so layers differ, a seed repeats,
 * and no initializer ever gets seed 0 (TensorFlow.js treats 0 as "no seed" and draws from
 * `Math.random`). This is the reference app's scheme, kept so its models start where they did.
 *
 * @module seeds
 */

import * as tfl from "@tensorflow/tfjs-layers";
import { raise } from "@wider/errors";
import { modelsError } from "./errors.js";

/** The largest model seed: `seed * 1000 + 999` stays an exact integer far below 2^53. */
export const maxSeed = 2 ** 31 - 1;

/** A tfjs-layers initializer (the type the layer constructors accept). */
export type Initializer = ReturnType<typeof tfl.initializers.zeros>;

/** The per-model seed counter; one instance per model build (internal, not exported from the package). */
export class Seeds {
  private used = 0;
  constructor(private readonly seed: number) {}

  /** The next initializer seed, `seed * 1000 + i`; never 0. */
  next(): number {
    if (this.used >= 999)
      raise(
        modelsError(
          "unsupported",
          "@wider/models: a model used more than 999 seeded initializers (seeds are seed * 1000 + i)",
          { value: this.used + 1 },
        ),
      );
    this.used += 1;
    return this.seed * 1000 + this.used;
  }

  /** He-normal, fan-in, truncated (tfjs `heNormal`): the small models' ReLU layers. */
  he(): Initializer {
    return tfl.initializers.heNormal({ seed: this.next() });
  }

  /** Glorot-uniform: the small models' output layer. */
  glorot(): Initializer {
    return tfl.initializers.glorotUniform({ seed: this.next() });
  }

  /** N(0, stddev^2), not truncated (PyTorch `normal_`). */
  normal(stddev: number): Initializer {
    return tfl.initializers.randomNormal({ mean: 0, stddev, seed: this.next() });
  }

  /** U(-limit, limit) (PyTorch `uniform_`). */
  uniform(limit: number): Initializer {
    return tfl.initializers.randomUniform({ minval: -limit, maxval: limit, seed: this.next() });
  }

  /**
   * The SWA authors' conv init (VGG, PreResNet): N(0, 2 / (k * k * out)), i.e. He-normal over the
   * fan-out, not truncated.
   */
  convFanOut(kernel: number, filters: number): Initializer {
    return this.normal(Math.sqrt(2 / (kernel * kernel * filters)));
  }

  /**
   * PyTorch's default `nn.Linear` / `nn.Conv2d` init for a weight or a bias:
   * U(-1/sqrt(fanIn), 1/sqrt(fanIn)) (`kaiming_uniform_(a = sqrt(5))` for the weight).
   */
  torchDefault(fanIn: number): Initializer {
    return this.uniform(1 / Math.sqrt(fanIn));
  }
}
