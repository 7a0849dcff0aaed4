import type { ReplyShares } from '../../retrieval/health.js';
import type { Engine } from '../../engine.js';
import type { BuildProgress, BuildSummary } from '../../index/build.js';

/**
 * Index updates one after another: an upload or removal while a re-index runs is not lost (the
 * running build may have read the documents before the change) but waits and runs next.
 */
export class IndexUpdates {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;

  constructor(private readonly engine: Engine) {}

  /** A re-index is running or waiting to run. */
  get busy(): boolean {
    return this.engine.isReindexing || this.queued > 0;
  }

  /** Re-indexes after every update requested before; the result includes all changes made before this call. */
  run(onProgress?: (p: BuildProgress) => void): Promise<BuildSummary> {
    this.queued++;
    const job = this.tail
      .then(async () => {
        // A re-index started elsewhere (the engine's own caller) may have read the documents already.
        while (this.engine.isReindexing) await this.engine.reindex().catch(() => undefined);
        return this.engine.reindex(onProgress);
      })
      .finally(() => this.queued--);
    this.tail = job.catch(() => undefined);
    return job;
  }

  /** The live index's replies to its own question-like texts (the gates' health). */
  health(): Promise<ReplyShares> {
    return this.engine.ownReplyShares();
  }
}
