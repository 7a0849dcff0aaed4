import type { ChunkStore } from './chunkStore.js';
import type { Chunk } from '../chunks/chunk.js';
import type { DenseIndex, ExactIndex, HnswIndex } from './dense.js';
import type { LexicalIndex } from './lexical.js';
import type { Generation } from './generation.js';
import type { Manifest } from './manifest.js';

/**
 * What retrieval reads: the storage seam where another back end plugs in. A server engine
 * (PostgreSQL with pgvector and full-text search, or Qdrant) would implement `chunks`, `lexical` and
 * `dense` over its tables or collections, keyed by the same integer labels; the Retriever, the
 * replies and the bot stay as they are (see docs/benchmark.md, "Beyond one machine"). The files on disk
 * (layout.ts, loader.ts) are this project's one implementation.
 */
export interface IndexData {
  /** Which generation it is (a build folder, or a numbered generation in PostgreSQL). */
  generation: Generation;
  /** The documents, model identity and "not covered" calibration the index was built with. */
  manifest: Manifest;
  /**
   * Chunk text and its document and ¶ by label (undefined for a deleted label); a database store
   * answers asynchronously (and batches the gets of one tick into one query).
   */
  chunks: { get(label: number): Chunk | undefined | Promise<Chunk | undefined> };
  /** BM25 candidates and word coverage (full-text search in a server store). */
  lexical: LexicalSearch;
  /** Nearest labels by cosine (pgvector / Qdrant in a server store). */
  dense: DenseIndex;
}

/**
 * The lexical side of retrieval: BM25 candidates and how much of a question a text covers. A
 * database store scores in SQL (`query` answers asynchronously) and fetches the statistics of a
 * question's words in `prepare`, so that `coverage`, `idf` and `unknownTerms` of those words answer
 * from memory: the retriever prepares each question before using them.
 */
export interface LexicalSearch {
  query(
    question: string,
    limit: number,
  ): ReturnType<LexicalIndex['query']> | Promise<ReturnType<LexicalIndex['query']>>;
  coverage: LexicalIndex['coverage'];
  idf: LexicalIndex['idf'];
  unknownTerms: LexicalIndex['unknownTerms'];
  prepare?(question: string): Promise<void>;
}

/** An index as read from disk, with the concrete stores (builds and tests use their extra methods). */
export interface StoredIndex extends IndexData {
  chunks: ChunkStore;
  lexical: LexicalIndex;
  dense: ExactIndex | HnswIndex;
}
