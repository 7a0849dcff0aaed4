import type { Decision } from '../../retrieval/search.js';

/** Question counts by reply kind and recent answer times for /stats (bounded memory). */
export class Stats {
  questions = 0;
  /** Questions answered as sure, and under the hedge line (unsure); the rest were not covered. */
  sure = 0;
  unsure = 0;
  private readonly durations: number[] = [];

  record(ms: number, decision: Decision): void {
    this.questions++;
    if (decision === 'sure') this.sure++;
    if (decision === 'unsure') this.unsure++;
    this.durations.push(ms);
    if (this.durations.length > 1000) this.durations.shift();
  }

  medianMs(): number | undefined {
    if (this.durations.length === 0) return undefined;
    const sorted = [...this.durations].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }
}
