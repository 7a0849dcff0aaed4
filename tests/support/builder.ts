import type { BuildSummary } from '../../src/index/build.js';
import { buildInWorker, type Builder } from '../../src/storage/builder.js';

/** How a steered build runs, given the real one (in its worker thread) and the build's arguments. */
type Steering = (real: Builder, ...args: Parameters<Builder>) => Promise<BuildSummary>;

/**
 * A builder a test passes to `Engine.open` and steers: the real build in its worker thread, unless
 * `steer` said otherwise for the builds from then on (hold the result back, never finish, damage
 * what was written) until `reset()`.
 */
export class TestBuilder {
  private steering: Steering | undefined;

  readonly build: Builder = (...args) =>
    this.steering ? this.steering(buildInWorker, ...args) : buildInWorker(...args);

  steer(steering: Steering): void {
    this.steering = steering;
  }

  reset(): void {
    this.steering = undefined;
  }

  /**
   * Holds back the result of the next builds (the real build runs): the engine keeps serving the
   * old index until `release()`. `restore()` makes builds plain again.
   */
  hold(): { release: () => void; restore: () => void } {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    this.steer(async (real, ...args) => {
      const summary = await real(...args);
      await gate;
      return summary;
    });
    return { release, restore: () => this.reset() };
  }
}
