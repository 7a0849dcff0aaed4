import type { Config } from '../config.js';
import type { ReadLimits } from '../documents/readers/types.js';

/** What reading one document may cost (documents/readers/types.ts `ReadLimits`). */
export function readLimits(config: Config): ReadLimits {
  return {
    maxBytes: config.DOC_MAX_BYTES,
    maxUnpackedBytes: config.DOC_MAX_UNPACKED_BYTES,
    maxTextChars: config.DOC_MAX_TEXT_CHARS,
    timeoutMs: config.DOC_READ_SECONDS * 1000,
    memoryMb: config.DOC_READ_MEMORY_MB,
  };
}

export function embeddingKey(config: Config): string {
  return `dtype:${config.EMBED_DTYPE}|q:${config.QUERY_PREFIX}|p:${config.PASSAGE_PREFIX}`;
}

/** How the configuration says to build an index (index/build.ts `BuildSettings`). */
export function buildSettings(config: Config) {
  return {
    seedsDir: config.SEEDS_DIR,
    indexDir: config.INDEX_DIR,
    reading: readLimits(config),
    M: config.HNSW_M,
    efConstruction: config.HNSW_EF_CONSTRUCTION,
    embeddingKey: embeddingKey(config),
    exactSearchMax: config.EXACT_SEARCH_MAX,
  };
}

/**
 * How the PostgreSQL store searches vectors: exactly up to EXACT_SEARCH_MAX passages, then HNSW at
 * HNSW_EF_SEARCH, or when unset at the ef_search measured at build.
 */
export function searchOptions(config: Config) {
  return { exactSearchMax: config.EXACT_SEARCH_MAX, efSearch: config.HNSW_EF_SEARCH };
}
