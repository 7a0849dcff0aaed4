import type { Embedder } from '../vectors/embedder.js';
import type { BuildOptions, BuildProgress, BuildSettings, BuildSummary } from './build.js';
import type { Generation, LiveGeneration } from './generation.js';
import type { IndexData } from './indexData.js';
import type { Manifest } from './manifest.js';
import type { TextsReader } from './texts.js';

/**
 * Where the index lives: build folders in INDEX_DIR (FileIndexStore) or generations in PostgreSQL
 * (PostgresIndex). The engine, the bot and the commands see only this; which one is chosen from the
 * configuration in one place (storage/storage.ts `openStorage`). What a `Generation` holds is the
 * store's business: the rest compares them (index/generation.ts).
 */
export interface IndexStore {
  /** The live generation's manifest, without reading its data; IndexError 'missing' | 'corrupt'. */
  liveManifest(): Promise<LiveGeneration>;
  /**
   * The live generation, opened for retrieval; IndexError 'missing' | 'corrupt'. `replacing`: the
   * index it replaces in this process, whose unchanged parts may be shared rather than read again.
   */
  openLive(replacing?: IndexData): Promise<IndexData>;
  /** Builds a new generation from the documents and makes it the live one once complete. */
  build(
    settings: BuildSettings,
    embedder: Embedder,
    onProgress?: (p: BuildProgress) => void,
    options?: BuildOptions,
  ): Promise<BuildSummary>;
  /**
   * The live manifest when `generation` is still the live one and its data is intact, told
   * without a build (cheaply: a stat per file while its seal holds); undefined when only a build can tell.
   */
  unchangedSince(generation: Generation): Promise<Manifest | undefined>;
  /**
   * Calls `onNew` with each generation another process switches to after `current()` (replicas
   * sharing one database, a build in a terminal beside the bot); `current()` undefined: not now.
   * Returns the function that stops following.
   */
  follow(current: () => Generation | undefined, onNew: (index: IndexData) => void): () => void;
  /** The stored texts of a generation's documents (the document viewer), when this store keeps them. */
  texts(live: LiveGeneration): TextsReader | undefined;
  close(): Promise<void>;
}
