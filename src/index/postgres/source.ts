import type { Db } from '../../db/pool.js';
import { listen } from './listen.js';
import { openDb } from '../../db/pool.js';
import { log } from '../../log.js';
import type { Embedder } from '../../vectors/embedder.js';
import type { BuildProgress, BuildSettings, BuildSummary } from '../build.js';
import type { IndexData } from '../indexData.js';
import { IndexError } from '../layout.js';
import {
  databaseGeneration,
  generationLabel,
  sameGeneration,
  type Generation,
  type LiveGeneration,
} from '../generation.js';
import type { IndexStore } from '../store.js';
import { buildInPostgres } from './build.js';
import {
  GENERATION_CHANNEL,
  generationManifest,
  liveGeneration,
  openGeneration,
  type SearchOptions,
} from './reader.js';
import { migrate } from './schema.js';

/** How often a replica looks at the pointer row for a new generation (besides hearing of it). */
const WATCH_MS = 1_000;

/**
 * The index in PostgreSQL, as one process sees it: opens the live generation, builds new ones,
 * and notices when another process switched to a new one.
 */
export class PostgresIndex implements IndexStore {
  private readonly watchers = new Set<() => void>();

  private constructor(
    readonly db: Db,
    private readonly url: string,
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
    return new PostgresIndex(db, url, search);
  }

  /** The live generation, or an IndexError 'missing' before the first build. */
  async openLive(): Promise<IndexData> {
    return openGeneration(this.db, await this.liveId(), this.search);
  }

  /** Only the manifest row: an old generation's postings blob is not fetched and parsed for it. */
  async liveManifest(): Promise<LiveGeneration> {
    const generation = await this.liveId();
    return { generation: databaseGeneration(generation), manifest: await generationManifest(this.db, generation) };
  }

  private async liveId(): Promise<number> {
    const generation = await liveGeneration(this.db);
    if (generation === undefined) throw new IndexError('No index in the database yet.', 'missing');
    return generation;
  }

  /** A database build checks what changed itself (its data cannot be damaged behind its back). */
  async unchangedSince(): Promise<undefined> {
    return undefined;
  }

  /** The documents' texts are not kept in the database (the viewer offers no button then). */
  texts(): undefined {
    return undefined;
  }

  build(
    settings: Omit<BuildSettings, 'indexDir'>,
    embedder: Embedder,
    onProgress?: (p: BuildProgress) => void,
  ): Promise<BuildSummary> {
    return buildInPostgres(this.db, settings, this.search, embedder, onProgress);
  }

  /**
   * Calls `onNew` with each generation switched to after `current()`. A replica hears of a switch at
   * once (LISTEN: the build NOTIFYs when it switches) and also looks at the pointer row every
   * `everyMs`, for poolers and proxies that drop notifications (PgBouncer in transaction mode).
   * The answers go on from the index in use until the new one is open. Returns the function that
   * stops watching.
   */
  follow(current: () => Generation | undefined, onNew: (index: IndexData) => void, everyMs = WATCH_MS): () => void {
    let busy = false;
    let again = false;
    const check = async (): Promise<void> => {
      if (busy) return void (again = true); // looked at again as soon as this look ends
      busy = true;
      try {
        const generation = await liveGeneration(this.db);
        const mine = current();
        if (generation !== undefined && mine && !sameGeneration(databaseGeneration(generation), mine)) {
          const next = await openGeneration(this.db, generation, this.search);
          const now = current();
          if (now && !sameGeneration(next.generation, now)) {
            onNew(next);
            log.info(`switched to ${generationLabel(databaseGeneration(generation))}`);
          }
        }
      } catch (err) {
        log.debug(`watching the index generation: ${(err as Error).message}`); // unreachable now: tried again next time
      } finally {
        busy = false;
        if (again) {
          again = false;
          void check();
        }
      }
    };
    const timer = setInterval(check, everyMs);
    timer.unref();
    const unlisten = listen(this.url, GENERATION_CHANNEL, () => void check());
    const stop = () => {
      clearInterval(timer);
      unlisten();
      this.watchers.delete(stop);
    };
    this.watchers.add(stop);
    return stop;
  }

  async close(): Promise<void> {
    for (const stop of [...this.watchers]) stop();
    await this.db.end();
  }
}
