import type { Config } from '../config.js';
import { MemoryCounters, type WindowCounters } from '../db/botState.js';
import { isUnavailable } from '../db/unavailable.js';
import { MemoryClaims, type UpdateClaims } from '../db/updateClaims.js';
import { JsonLinesStore } from '../desk/jsonLines.js';
import type { DeskStore } from '../desk/store.js';
import { FileIndexStore } from '../index/fileStore.js';
import type { IndexStore } from '../index/store.js';
import { RecentAnswers, type RecentStore } from '../replies/recent.js';

/** A storage client for grammY's rate limiter (its Redis interface). */
export interface LimiterClient {
  incr(key: string): Promise<number>;
  pexpire(key: string, ms: number): Promise<number>;
}

/**
 * Everything Cite keeps beyond one question: the index, the admin desk (feedback, uploads, access
 * decisions), the answers buttons refer to, rate-limit counters and the webhook's claimed updates.
 * In files beside the index and this process's memory, or in PostgreSQL, shared by every replica.
 * Only the index is opened at once; the rest when a part asks for it (the build worker never does).
 */
export interface Storage {
  /** Whether other processes (replicas) share this storage. */
  readonly shared: boolean;
  readonly index: IndexStore;
  /** The desk as it is now (each call opens it again: a bot restarted in-process reads what was written). */
  openDesk(): DeskStore;
  /** The answers a bot's buttons refer to (in this process: the latest 1,000). */
  openRecentAnswers(): RecentStore;
  /** Counters by window for the question limit (windows of message dates). */
  windowCounters(scope: string, windowMs: number): WindowCounters;
  /** Where grammY's limiter counts `scope`; undefined: in the limiter's own memory. */
  limiterClient(scope: string, windowMs: number): LimiterClient | undefined;
  /** Webhook update ids, so that an update posted twice (or to two replicas) is answered once. */
  openUpdateClaims(): UpdateClaims;
  /** Resolves when the storage answers (the webhook's health check), rejects when it does not. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The one place that opens the configured store: PostgreSQL (DATABASE_URL), or files in INDEX_DIR.
 * The PostgreSQL side is imported only when configured (its driver costs a start of the file store ~0.1 s).
 */
export async function openStorage(config: Config): Promise<Storage> {
  const { store } = config;
  if (store.kind === 'postgres') return (await import('./databaseStorage.js')).openDatabaseStorage(store.url, config);
  return fileStorage(config.INDEX_DIR);
}

function fileStorage(dir: string): Storage {
  return {
    shared: false,
    index: new FileIndexStore(dir),
    openDesk: () => JsonLinesStore.open(dir),
    openRecentAnswers: () => new RecentAnswers(1000),
    windowCounters: () => new MemoryCounters(),
    limiterClient: () => undefined,
    openUpdateClaims: () => new MemoryClaims(),
    check: async () => {},
    close: async () => {},
  };
}

/** What a command prints when the storage cannot be reached; undefined when that is not what failed. */
export function unreachableMessage(err: unknown): string | undefined {
  return isUnavailable(err) ? `PostgreSQL (DATABASE_URL) cannot be reached: ${(err as Error).message}` : undefined;
}
