import { embedderOptions, type Config } from './config.js';
import { loadDocuments } from './documents/load.js';
import { buildIndex, type BuildProgress, type BuildSummary } from './index/build.js';
import { IndexError, readIndex } from './index/store.js';
import { log } from './log.js';
import { Retriever, type Answer, type SearchMode } from './retrieval/search.js';
import { loadEmbedder, type Embedder } from './vectors/embedder.js';

/**
 * The whole retrieval pipeline behind one object, shared by the terminal and the bot.
 * Re-indexing builds beside the live index and swaps the retriever only when the new one is
 * complete, so questions keep being answered from the old index meanwhile.
 */
export class Engine {
  private reindexing: Promise<BuildSummary> | undefined;

  private constructor(
    readonly config: Config,
    readonly embedder: Embedder,
    private retriever: Retriever,
  ) {}

  static async open(config: Config, onProgress?: (p: BuildProgress) => void): Promise<Engine> {
    const embedder = await loadEmbedder(embedderOptions(config));
    let index;
    try {
      index = readIndex(config.INDEX_DIR);
      const reason = staleReason(config, embedder, index.manifest);
      if (reason) throw new IndexError(`The index is out of date: ${reason}.`, 'missing');
    } catch (err) {
      if (!(err instanceof IndexError) || err.kind === 'busy') throw err;
      log.warn(`${err.detail} Building the index now.`);
      await buildIndex(buildSettings(config), embedder, onProgress);
      index = readIndex(config.INDEX_DIR);
    }
    return new Engine(config, embedder, new Retriever(index, embedder, retrievalSettings(config)));
  }

  get manifest() {
    return this.retriever.index.manifest;
  }

  get chunks() {
    return this.retriever.index.chunks;
  }

  get isReindexing(): boolean {
    return this.reindexing !== undefined;
  }

  ask(question: string, topK = this.config.TOP_K, mode: SearchMode = 'hybrid'): Promise<Answer> {
    return this.retriever.search(question, topK, mode);
  }

  /** Rebuilds and swaps in the new index; a second call while one runs gets the running one's result. */
  reindex(onProgress?: (p: BuildProgress) => void): Promise<BuildSummary> {
    this.reindexing ??= (async () => {
      try {
        const summary = await buildIndex(buildSettings(this.config), this.embedder, onProgress);
        this.retriever = new Retriever(readIndex(this.config.INDEX_DIR), this.embedder, retrievalSettings(this.config));
        return summary;
      } finally {
        this.reindexing = undefined;
      }
    })();
    return this.reindexing;
  }
}

export function embeddingKey(config: Config): string {
  return `dtype:${config.EMBED_DTYPE}|q:${config.QUERY_PREFIX}|p:${config.PASSAGE_PREFIX}`;
}

export function buildSettings(config: Config) {
  return {
    seedsDir: config.SEEDS_DIR,
    indexDir: config.INDEX_DIR,
    maxDocBytes: config.DOC_MAX_BYTES,
    M: config.HNSW_M,
    efConstruction: config.HNSW_EF_CONSTRUCTION,
    embeddingKey: embeddingKey(config),
  };
}

function retrievalSettings(config: Config) {
  return {
    efSearch: config.HNSW_EF_SEARCH,
    denseThreshold: config.DENSE_THRESHOLD,
    lexicalThreshold: config.LEXICAL_THRESHOLD,
  };
}

/** Why the stored index no longer fits the model or the documents, if it does not. */
function staleReason(
  config: Config,
  embedder: Embedder,
  manifest: { model: string; dim: number; embeddingKey: string; documents: { file: string; hash: string }[] },
): string | undefined {
  if (manifest.model !== embedder.modelId || manifest.dim !== embedder.dim) {
    return `it was built with ${manifest.model} (dimension ${manifest.dim}), the configured model is ${embedder.modelId} (dimension ${embedder.dim})`;
  }
  if (!manifest.embeddingKey.startsWith(embeddingKey(config))) return 'the embedding settings changed';
  const current = loadDocuments(config.SEEDS_DIR, config.DOC_MAX_BYTES).documents;
  const stored = new Map(manifest.documents.map((d) => [d.file, d.hash]));
  const changed = current.filter((d) => stored.get(d.file) !== d.hash).length;
  const removed = manifest.documents.length - current.filter((d) => stored.has(d.file)).length;
  if (changed || removed) return `${changed} document(s) new or changed, ${removed} removed since it was built`;
  return undefined;
}
