import { createRequire } from 'node:module';
import type cliProgress from 'cli-progress';

/** Loaded when a bar is first drawn (a download, a build on a terminal), not at every start. */
const bars = () => createRequire(import.meta.url)('cli-progress') as typeof cliProgress;

/** A progress bar on stderr that appears only on a terminal and only once there is progress to show. */
export class ProgressBar {
  private bar: cliProgress.SingleBar | undefined;
  /** Ctrl-C while a bar hides the cursor: show the cursor again, then stop as Ctrl-C would. */
  private readonly onInterrupt = () => {
    this.stop();
    process.kill(process.pid, 'SIGINT');
  };

  constructor(private readonly label: string) {}

  update(value: number, total: number, detail = ''): void {
    if (!process.stderr.isTTY) return;
    if (!this.bar) {
      const { SingleBar, Presets } = bars();
      this.bar = new SingleBar(
        { format: `${this.label} [{bar}] {value}/{total} {detail}`, stream: process.stderr, hideCursor: true },
        Presets.shades_classic,
      );
      // Listen before the cursor is hidden: a Ctrl-C right after would otherwise kill the process with it hidden.
      process.once('SIGINT', this.onInterrupt);
      this.bar.start(total, value, { detail });
    }
    this.bar.setTotal(total);
    this.bar.update(value, { detail });
  }

  stop(): void {
    if (!this.bar) return;
    this.bar.stop();
    this.bar = undefined;
    process.removeListener('SIGINT', this.onInterrupt);
  }
}
