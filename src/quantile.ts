/** Nearest-rank quantile `q` (0–1) of ascending `sorted`; NaN when it is empty. */
export const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
