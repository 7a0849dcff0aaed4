import type { Db } from '../../db/pool.js';
import { openDb } from '../../db/pool.js';
import { log } from '../../log.js';
import type { Embedder } from '../../vectors/embedder.js';
import type { BuildProgress, BuildSettings, BuildSummary } from '../build.js';
import type { IndexData } from '../indexData.js';
import { IndexError } from '../layout.js';
import { buildInPostgres } from './build.js';
import { generationName, liveGeneration, openGeneration, type SearchOptions } from './reader.js';
import { migrate } from './schema.js';

/** How often a replica looks at the pointer row for a new generation. */
const WATCH_MS = 1_000;

/**
 * The index in PostgreSQL, as one process sees it: opens the live generation, builds new ones,
 * and notices when another process switched to a new one.
 */
export class PostgresIndex {
  private constructor(
    readonly db: Db,
    private readonly search: SearchOptions,
  ) {}

  static async connect(url: string, search: SearchOptions): Promise<PostgresIndex> {
    const db = openDb(url);
    try {
      await migrate(db);
    } catch (err) {
      await db.end();
      throw err;
    }
    return new PostgresIndex(db, search);
  }

  /** The live generation, or an IndexError 'missing' before the first build. */
  async openLive(): Promise<IndexData> {
    const generation = await liveGeneration(this.db);
    if (generation === undefined) throw new IndexError('No index in the database yet.', 'missing');
    return openGeneration(this.db, generation, this.search);
  }

  build(settings: Omit<BuildSettings, 'indexDir'>, embedder: Embedder, onProgress?: (p: BuildProgress) => void): Promise<BuildSummary> {
    return buildInPostgres(this.db, settings, this.search, embedder, onProgress);
  }

  /**
   * Calls `onNew` with each generation switched to after `current()` (polling the pointer row: it
   * works through every pooler and proxy, where LISTEN may not). The answers go on from the index in
   * use until the new one is open. Returns the function that stops watching.
   */
  watch(current: () => string, onNew: (index: IndexData) => void, everyMs = WATCH_MS): () => void {
    let busy = false;
    const timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        const generation = await liveGeneration(this.db);
        if (generation !== undefined && generationName(generation) !== current()) {
          onNew(await openGeneration(this.db, generation, this.search));
          log.info(`switched to ${generationName(generation)}`);
        }
      } catch (err) {
        log.debug(`watching the index generation: ${(err as Error).message}`); // unreachable now: tried again next time
      } finally {
        busy = false;
      }
    }, everyMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  close(): Promise<void> {
    return this.db.end();
  }
}
