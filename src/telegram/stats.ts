/** Question counts and recent answer times for /stats (bounded memory). */
export class Stats {
  questions = 0;
  answered = 0;
  private readonly durations: number[] = [];

  record(ms: number, answered: boolean): void {
    this.questions++;
    if (answered) this.answered++;
    this.durations.push(ms);
    if (this.durations.length > 1000) this.durations.shift();
  }

  medianMs(): number | undefined {
    if (this.durations.length === 0) return undefined;
    const sorted = [...this.durations].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }
}
