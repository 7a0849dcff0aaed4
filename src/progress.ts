import cliProgress from 'cli-progress';

/** A progress bar on stderr that appears only on a terminal and only once there is progress to show. */
export class ProgressBar {
  private bar: cliProgress.SingleBar | undefined;

  constructor(private readonly label: string) {}

  update(value: number, total: number, detail = ''): void {
    if (!process.stderr.isTTY) return;
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        { format: `${this.label} [{bar}] {value}/{total} {detail}`, stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, value, { detail });
    }
    this.bar.setTotal(total);
    this.bar.update(value, { detail });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
