import { embedderOptions, type Config } from './config.js';
import {
  buildIndex,
  damagedFile,
  fullEmbeddingKey,
  searchSettingsChanged,
  type BuildProgress,
  type BuildSummary,
} from './index/build.js';
import { buildInWorker, type Builder } from './index/buildInWorker.js';
import { documentsChangedSince, readingKey } from './index/changes.js';
import type { IndexData } from './index/indexData.js';
import { IndexError } from './index/layout.js';
import { loadIndex } from './index/loader.js';
import { lockIndex } from './index/lock.js';
import { readManifest, type Manifest } from './index/manifest.js';
import { PostgresIndex } from './index/postgres/source.js';
import { buildSettings, readLimits, searchOptions } from './index/settings.js';
import { isUnavailable } from './db/pool.js';
import { log } from './log.js';
import { Retriever, type Answer, type SearchMode } from './retrieval/search.js';
import { loadEmbedder, type Embedder } from './vectors/embedder.js';

/**
 * The whole retrieval pipeline behind one object, shared by the terminal and the bot.
 * Re-indexing runs in a worker thread and writes beside the live index; the retriever is swapped
 * only when the new index is complete and loaded, so questions keep being answered meanwhile.
 */
export class Engine {
  private reindexing: Promise<BuildSummary> | undefined;

  private constructor(
    readonly config: Config,
    readonly embedder: Embedder,
    private retriever: Retriever,
    /** How `reindex` builds: in a worker thread (tests pass one they can hold). */
    private readonly builder: Builder,
    /** Set when the index lives in PostgreSQL (DATABASE_URL) instead of INDEX_DIR. */
    readonly postgres?: PostgresIndex,
  ) {}

  /** Opens the index, building it first (in this thread) when there is none or it no longer fits. */
  static async open(
    config: Config,
    onProgress?: (p: BuildProgress) => void,
    { builder = buildInWorker }: { builder?: Builder } = {},
  ): Promise<Engine> {
    const embedder = await loadEmbedder(embedderOptions(config));
    if (config.DATABASE_URL) return Engine.openPostgres(config, embedder, builder, onProgress);
    let reuse = true;
    try {
      const reason = staleReason(config, embedder, readManifest(config.INDEX_DIR).manifest);
      if (!reason)
        return new Engine(
          config,
          embedder,
          new Retriever(await loadIndex(config.INDEX_DIR), embedder, retrievalSettings(config)),
          builder,
        );
      log.warn(`The index is out of date: ${reason}. Building the index now.`);
    } catch (err) {
      if (!(err instanceof IndexError) || err.kind === 'busy') throw err;
      log.warn(`${err.detail} Building the index now.`);
      reuse = err.kind !== 'corrupt'; // damaged files are not trusted for reuse
    }
    try {
      const summary = await buildIndex(buildSettings(config), embedder, onProgress, { reuse });
      for (const { file, reason } of summary.skipped) log.warn(`skipped ${file}: ${reason}`); // no summary is printed here
    } catch (err) {
      // Another process is building right now: answer from the live index if there is a usable one.
      if (!(err instanceof IndexError && err.kind === 'busy' && reuse)) throw err;
      const live = await loadIndex(config.INDEX_DIR).catch(() => undefined);
      if (!live || live.manifest.modelIdentity !== embedder.identity || live.manifest.dim !== embedder.dim) throw err;
      log.warn(`${err.message} Answering from the live index (built ${live.manifest.builtAt}) meanwhile.`);
      return new Engine(config, embedder, new Retriever(live, embedder, retrievalSettings(config)), builder);
    }
    return new Engine(
      config,
      embedder,
      new Retriever(await loadIndex(config.INDEX_DIR), embedder, retrievalSettings(config)),
      builder,
    );
  }

  /**
   * The index in PostgreSQL: built first when there is none or it no longer fits (as with files);
   * then the engine follows the generations other processes switch to.
   */
  private static async openPostgres(
    config: Config,
    embedder: Embedder,
    builder: Builder,
    onProgress?: (p: BuildProgress) => void,
  ): Promise<Engine> {
    const postgres = await PostgresIndex.connect(config.DATABASE_URL!, searchOptions(config));
    const live = await postgres.openLive().catch((err) => {
      if (err instanceof IndexError && err.kind === 'missing') return undefined;
      throw err;
    });
    const reason = live ? staleReason(config, embedder, live.manifest) : 'there is none yet';
    let index = live;
    if (reason) {
      log.warn(`The index in the database is out of date: ${reason}. Building the index now.`);
      try {
        const summary = await postgres.build(buildSettings(config), embedder, onProgress);
        for (const { file, reason } of summary.skipped) log.warn(`skipped ${file}: ${reason}`);
        index = await postgres.openLive();
      } catch (err) {
        const usable = live && live.manifest.modelIdentity === embedder.identity && live.manifest.dim === embedder.dim;
        if (!(err instanceof IndexError && err.kind === 'busy' && usable)) throw err;
        log.warn(`${err.message} Answering from the live index (built ${live.manifest.builtAt}) meanwhile.`);
      }
    }
    const engine = new Engine(
      config,
      embedder,
      new Retriever(index!, embedder, retrievalSettings(config)),
      builder,
      postgres,
    );
    postgres.watch(
      () => engine.retriever.index.build,
      (next) => engine.use(next),
    );
    return engine;
  }

  /** Answers from `index` from now on (questions in flight finish on the one they started with). */
  private use(index: IndexData): void {
    this.retriever = new Retriever(index, this.embedder, retrievalSettings(this.config));
  }

  /** Closes the database connections, if any (the file store holds nothing open). */
  async close(): Promise<void> {
    await this.postgres?.close();
  }

  get manifest(): Manifest {
    return this.retriever.index.manifest;
  }

  /** The live index's build folder (a generation's name in PostgreSQL), with its manifest: one snapshot. */
  get live(): { build: string; manifest: Manifest } {
    const { build, manifest } = this.retriever.index;
    return { build, manifest };
  }

  /** See Retriever.forgetQuestions. */
  forgetQuestions(): void {
    this.retriever.forgetQuestions();
  }

  get isReindexing(): boolean {
    return this.reindexing !== undefined;
  }

  /** The best passages; the first `described` (default: all) get their best sentence. */
  ask(question: string, topK = this.config.TOP_K, mode: SearchMode = 'hybrid', described = topK): Promise<Answer> {
    return this.retriever.search(question, topK, mode, described);
  }

  /** How many pages of a document the live index holds passages from (paged formats, e.g. PDF; else undefined). */
  async pagesOf(file: string): Promise<number | undefined> {
    const { index } = this.retriever;
    const doc = index.manifest.documents.find((d) => d.file === file);
    // All asked for at once: one query for a database store.
    const chunks = await Promise.all(
      Array.from({ length: doc?.chunks ?? 0 }, (_, i) => index.chunks.get(doc!.firstLabel + i)),
    );
    const pages = chunks.flatMap((c) => c?.pages ?? []).filter((page) => page > 0);
    return pages.length ? pages.reduce((a, b) => Math.max(a, b)) : undefined;
  }

  /** Best sentences for hits [from, to) of an answer (e.g. the next page of results). */
  describe(answer: Answer, from: number, to: number): Promise<void> {
    return this.retriever.describe(answer, from, to);
  }

  /**
   * Rebuilds in a worker thread and swaps in the new index once it is loaded; a second call while
   * one runs gets the running one's result.
   */
  reindex(onProgress?: (p: BuildProgress) => void): Promise<BuildSummary> {
    this.reindexing ??= (async () => {
      try {
        const unchanged = await this.unchangedSummary();
        if (unchanged) return unchanged;
        let summary = await this.builder(this.config, onProgress);
        // Another process may have rebuilt since this index was loaded: load whatever is live.
        if (summary.buildDir === this.retriever.index.build) return summary;
        if (this.postgres) {
          // The build switched the database: if it cannot be read right now, the generation watcher
          // switches this replica as soon as it can (the build itself succeeded).
          await this.postgres.openLive().then(
            (index) => this.use(index),
            (err: unknown) => {
              if (!isUnavailable(err)) throw err;
              log.warn(
                `the new index is built; PostgreSQL does not answer right now (${(err as Error).message}), switching to it when it does`,
              );
            },
          );
          return summary;
        }
        let index = await loadIndex(this.config.INDEX_DIR).catch((err: unknown) => {
          if (err instanceof IndexError && err.kind === 'corrupt') return undefined;
          throw err;
        });
        if (!index) {
          // The new build does not load (damaged after it was written): build from the documents, reusing nothing.
          log.warn('The new index does not load: building it again from the documents.');
          summary = await this.builder(this.config, onProgress, { reuse: false });
          index = await loadIndex(this.config.INDEX_DIR);
        }
        this.use(index);
        return summary;
      } finally {
        this.reindexing = undefined;
      }
    })();
    return this.reindexing;
  }

  /**
   * "Nothing changed", decided here before any worker is started and any model loaded (that was most
   * of the time of an unchanged re-index): the live build is the one answering, fits the model, the
   * settings and every document's size and time (as at start, see staleReason), and every data
   * file still matches its checksum (a stat per file while its seal holds, see index/seals.ts).
   * Anything else goes to the worker, whose build decides again.
   */
  private async unchangedSummary(): Promise<BuildSummary | undefined> {
    if (this.postgres) return undefined;
    const started = performance.now();
    let live: { build: string; manifest: Manifest };
    try {
      live = readManifest(this.config.INDEX_DIR);
    } catch {
      return undefined; // missing or damaged: the build says what to do
    }
    const { build, manifest } = live;
    if (build !== this.retriever.index.build || staleReason(this.config, this.embedder, manifest)) return undefined;
    const unlock = lockIndex(this.config.INDEX_DIR); // another build running is "busy", as from the worker
    try {
      if (await damagedFile(build, manifest)) return undefined;
    } finally {
      unlock();
    }
    return {
      documents: manifest.documents.length,
      chunks: manifest.chunkCount,
      reused: manifest.documents.map((d) => d.file).sort(),
      embedded: [],
      removed: [],
      renamed: [],
      copied: [],
      notes: [],
      skipped: manifest.skipped.map(({ file, reason }) => ({ file, reason })),
      embeddedChunks: 0,
      embedMs: 0,
      totalMs: performance.now() - started,
      buildDir: build,
      upToDate: true,
      rebuilt: false,
      calibration: manifest.calibration,
    };
  }
}

function retrievalSettings(config: Config) {
  return {
    efSearch: config.HNSW_EF_SEARCH,
    denseThreshold: config.DENSE_THRESHOLD,
    lexicalThreshold: config.LEXICAL_THRESHOLD,
  };
}

/** Why the stored index no longer fits the model, the settings or the documents, if it does not. */
function staleReason(config: Config, embedder: Embedder, manifest: Manifest): string | undefined {
  if (manifest.model === embedder.modelId && manifest.modelIdentity !== embedder.identity) {
    return `it was built with another version of ${manifest.model} (${manifest.modelIdentity.replace(/^hub:/, '')}), the configured one is ${embedder.identity.replace(/^hub:/, '')}`;
  }
  if (manifest.modelIdentity !== embedder.identity || manifest.dim !== embedder.dim) {
    return `it was built with ${manifest.model} (dimension ${manifest.dim}), the configured model is ${embedder.modelId} (dimension ${embedder.dim})`;
  }
  if (manifest.embeddingKey !== fullEmbeddingKey(buildSettings(config))) return 'the embedding settings changed';
  if (searchSettingsChanged(manifest, buildSettings(config)))
    return 'the vector search settings (HNSW_M, HNSW_EF_CONSTRUCTION, EXACT_SEARCH_MAX) changed';
  if (manifest.reading !== readingKey(readLimits(config)))
    return 'the reading settings (DOC_MAX_BYTES and the other DOC_ limits) changed';
  return documentsChangedSince(config.SEEDS_DIR, manifest);
}
