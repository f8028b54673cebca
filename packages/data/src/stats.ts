/**
 * Normalisation statistics: per-channel mean and standard deviation of pixel values
 * scaled to [0, 1], computed exactly from a 256-bin histogram per channel.
 */
import type { Split } from "./split.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Per-channel mean and (population) standard deviation of pixels in [0, 1]. */
export interface ChannelStats {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * Mean and population standard deviation per channel over every pixel of `split`, with
 * pixels scaled to [0, 1] (`value / 255`), as used for `normalize` in batches.
 * @example
 * channelStats(dataset.train); // e.g. { mean: [0.2860], std: [0.3530] } for Fashion-MNIST
 */
export const channelStats = (split: Split): ChannelStats => {
  const channels = split.imageShape[2];
  const total = split.count * split.imageShape[0] * split.imageShape[1] * channels;
  const images = split.images;
  const histogram = new Float64Array(256 * channels);
  if (channels === 1) {
    for (let i = 0; i < total; i++) histogram[images[i] ?? 0]! += 1;
  } else {
    for (let i = 0; i < total; i += channels) {
      for (let c = 0; c < channels; c++) histogram[c * 256 + (images[i + c] ?? 0)]! += 1;
    }
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let n = 0;
    let sum = 0;
    for (let v = 0; v < 256; v++) {
      const k = histogram[c * 256 + v] ?? 0;
      n += k;
      sum += k * v;
    }
    const m = n === 0 ? 0 : sum / n;
    let squares = 0;
    for (let v = 0; v < 256; v++) squares += (histogram[c * 256 + v] ?? 0) * (v - m) ** 2;
    mean.push(m / 255);
    std.push(n === 0 ? 0 : Math.sqrt(squares / n) / 255);
  }
  return { mean, std };
};
