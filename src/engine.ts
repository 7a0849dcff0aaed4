import { embedderOptions, type Config } from './config.js';
import { isUnavailable } from './db/unavailable.js';
import {
  embeddingKeyChange,
  fullEmbeddingKey,
  unchangedSummary,
  type BuildProgress,
  type BuildSummary,
} from './index/build.js';
import { searchSettingsChanged } from './index/buildParts.js';
import { documentsChangedSince, readingKey } from './index/changes.js';
import { generationLabel, sameGeneration, type Generation, type LiveGeneration } from './index/generation.js';
import type { IndexData } from './index/indexData.js';
import { IndexError } from './index/layout.js';
import type { Manifest } from './index/manifest.js';
import { buildSettings, readLimits } from './index/settings.js';
import type { IndexStore } from './index/store.js';
import { log } from './log.js';
import { messageOf } from './paths.js';
import { ownQuestions, replyShares, type ReplyShares } from './retrieval/health.js';
import { LexicalThread } from './retrieval/lexicalThread.js';
import { quotedFirst, Retriever, type Answer, type SearchMode } from './retrieval/search.js';
import { BuildWorker, type Builder } from './storage/builder.js';
import { openStorage, type Storage } from './storage/storage.js';
import { loadEmbedder, type Embedder } from './vectors/embedder.js';

/**
 * How many passages a reply is decided from. A sure passage may rank below the ones a reply shows
 * (the nearest are often only about the subject): deciding from the shown ones alone would hedge it.
 */
export const REPLY_CANDIDATES = 10;

/** What an engine is made of; `Engine.open` opens from the configuration what is not given. */
export interface EngineParts {
  /** Where the index (and the desk, counters…) live; the engine closes it. */
  storage?: Storage;
  embedder?: Embedder;
  /** How `reindex` builds: in a worker thread kept by the engine (tests pass one they can hold). */
  builder?: Builder;
}

/**
 * The whole retrieval pipeline behind one object, shared by the terminal and the bot, over any
 * storage (files or PostgreSQL: one code path). Re-indexing runs in a worker thread and writes
 * beside the live index; the retriever is swapped only when the new index is complete and loaded,
 * so questions keep being answered meanwhile.
 */
export class Engine {
  private reindexing: Promise<BuildSummary> | undefined;
  /** The replies to the live index's own questions, measured once per index (ownReplyShares). */
  private shares: { index: IndexData; shares: Promise<ReplyShares> } | undefined;
  private readonly stopFollowing: () => void;
  /**
   * The newest generation this engine has looked at, served or not: one another model built is
   * refused once, not opened again every time the follower looks.
   */
  private followed: Generation;

  private constructor(
    readonly config: Config,
    readonly storage: Storage,
    readonly embedder: Embedder,
    private retriever: Retriever,
    private readonly builder: Builder,
    /** The engine's own build worker (none when the builder was given). */
    private readonly worker: BuildWorker | undefined,
    /** Where BM25 runs beside the vector search, for every index this engine serves. */
    private readonly lexicalThread: LexicalThread,
  ) {
    // Switch to the generations other processes build (replicas sharing a database, `npm run index`
    // beside the bot); not while this engine's own re-index switches it (it would be loaded twice).
    this.followed = retriever.index.generation;
    this.stopFollowing = storage.index.follow(
      () => (this.reindexing ? undefined : this.followed),
      (next) => this.adopt(next),
    );
  }

  /**
   * A generation another process made live. Built with another model (a rolling deploy's first new
   * replica rebuilt the index), its vectors do not compare with this process's questions' (same
   * dimension or not): this process keeps answering from its own until it is restarted with that model.
   */
  private adopt(next: IndexData): void {
    this.followed = next.generation;
    const other = otherModel(next.manifest, this.embedder);
    if (!other) {
      this.use(next);
      return;
    }
    log.warn(
      `Not switching to the live index (${generationLabel(next.generation)}): ${other}. ` +
        `This process keeps answering from ${generationLabel(this.retriever.index.generation)}; restart it with that model to switch.`,
    );
  }

  /** Opens the index, building it first (in this thread) when there is none or it no longer fits. */
  static async open(config: Config, onProgress?: (p: BuildProgress) => void, parts: EngineParts = {}): Promise<Engine> {
    const storage = parts.storage ?? (await openStorage(config));
    try {
      // The index is read (its graph on a native thread) while the model loads.
      const model = parts.embedder ? Promise.resolve(parts.embedder) : loadEmbedder(embedderOptions(config));
      const { index, embedder } = await openOrBuild(config, storage.index, model, onProgress);
      const lexicalThread = new LexicalThread();
      const retriever = new Retriever(index, embedder, retrievalSettings(config), lexicalThread);
      const worker = parts.builder ? undefined : new BuildWorker();
      return new Engine(config, storage, embedder, retriever, parts.builder ?? worker!.build, worker, lexicalThread);
    } catch (err) {
      await storage.close();
      throw err;
    }
  }

  /** Answers from `index` from now on (questions in flight finish on the one they started with). */
  private use(index: IndexData): void {
    this.followed = index.generation;
    this.retriever = new Retriever(index, this.embedder, retrievalSettings(this.config), this.lexicalThread);
  }

  /**
   * Starts the build worker and loads its model now, so that the first re-index does not wait for
   * them (a serving process: the bot). The worker then stays, holding its copy of the model.
   */
  prepareReindex(): Promise<void> {
    return this.worker?.prepare(this.config) ?? Promise.resolve();
  }

  /**
   * Answers the live index's own question-like texts once (the replies /stats reports, kept), so
   * that users' first questions after a start run on compiled code: in a fresh process at 99,425
   * passages the first twenty questions took 11–16 ms (median), the later ones 6 ms (benchmark.md
   * §7). Not with a shared storage (a database): there a question's time is the database's, and
   * every replica's start would ask it fifty questions. Never fails: /stats measures again.
   */
  async warmUp(): Promise<void> {
    if (this.storage.shared) return;
    await this.ownReplyShares().catch((err: unknown) => log.warn(`warming up the answers failed: ${messageOf(err)}`));
  }

  /** Stops following other processes' builds, ends the build worker and closes the storage (database connections, if any). */
  async close(): Promise<void> {
    this.stopFollowing();
    await this.lexicalThread.close();
    await this.worker?.close();
    await this.storage.close();
  }

  get manifest(): Manifest {
    return this.retriever.index.manifest;
  }

  /** The live index's generation with its manifest: one snapshot. */
  get live(): LiveGeneration {
    const { generation, manifest } = this.retriever.index;
    return { generation, manifest };
  }

  /** See Retriever.forgetQuestions. */
  forgetQuestions(): void {
    this.retriever.forgetQuestions();
  }

  get isReindexing(): boolean {
    return this.reindexing !== undefined;
  }

  /**
   * The reply to a question as every front end gives it (the bot, the console chat, `ask`, inline
   * mode): decided from the REPLY_CANDIDATES best passages, the first `shown` of those it quotes
   * put first and described; the rest stay for "More results".
   */
  async reply(question: string, shown = this.config.TOP_K): Promise<Answer> {
    const answer = quotedFirst(await this.ask(question, Math.max(REPLY_CANDIDATES, shown), 'hybrid', shown), shown);
    await this.describe(answer, 0, shown); // quotedFirst may have moved undescribed hits up
    return answer;
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

  /**
   * How the replies split (sure / unsure / not covered) over questions cut from the live index's own
   * passages: the gates' health for the index summary, /reindex and /stats. Measured once per index.
   */
  ownReplyShares(): Promise<ReplyShares> {
    const { index } = this.retriever;
    if (this.shares?.index !== index) {
      const entry = { index, shares: ownQuestions(index).then((qs) => replyShares(qs, (q) => this.reply(q))) };
      // A failure is not kept: /stats would apologise until the next re-index; the next call measures again.
      entry.shares.catch(() => {
        if (this.shares === entry) this.shares = undefined;
      });
      this.shares = entry;
    }
    return this.shares.shares;
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
        const unchanged = await this.upToDate();
        if (unchanged) return unchanged;
        let summary = await this.builder(this.config, onProgress);
        // Another process may have rebuilt since this index was loaded: load whatever is live.
        if (sameGeneration(summary.generation, this.retriever.index.generation)) return summary;
        let index = await this.openBuilt();
        if (index === 'damaged') {
          log.warn('The new index does not load: building it again from the documents.');
          summary = await this.builder(this.config, onProgress, { reuse: false });
          index = await this.storage.index.openLive();
        }
        if (index) this.use(index);
        return summary;
      } finally {
        this.reindexing = undefined;
      }
    })();
    return this.reindexing;
  }

  /**
   * The generation a build just made live; 'damaged' when it does not load (damaged after it was
   * written); undefined when the storage does not answer right now: the build itself succeeded,
   * and a shared storage's follower switches to it as soon as it answers.
   */
  private async openBuilt(): Promise<IndexData | 'damaged' | undefined> {
    return this.storage.index.openLive(this.retriever.index).catch((err: unknown) => {
      if (err instanceof IndexError && err.kind === 'corrupt') return 'damaged' as const;
      if (!isUnavailable(err)) throw err;
      log.warn(
        `the new index is built; the database does not answer right now (${(err as Error).message}), switching to it when it does`,
      );
      return undefined;
    });
  }

  /**
   * "Nothing changed", decided here before any worker is started and any model loaded (that was most
   * of the time of an unchanged re-index): the live index fits the model, the settings and every
   * document's size and time (as at start, see staleReason), and the store vouches that it is still
   * the live one and intact (files: a stat per file while its seal holds, see index/seals.ts).
   * Anything else goes to the builder, whose build decides again.
   */
  private async upToDate(): Promise<BuildSummary | undefined> {
    const started = performance.now();
    const { generation } = this.retriever.index;
    if (staleReason(this.config, this.embedder, this.manifest)) return undefined;
    const manifest = await this.storage.index.unchangedSince(generation);
    return manifest && unchangedSummary(generation, manifest, performance.now() - started);
  }
}

/**
 * The live index when it fits the model, the settings and the documents; else a new one built now
 * (in this thread: nothing answers yet). While another process builds, a usable live index answers.
 */
async function openOrBuild(
  config: Config,
  store: IndexStore,
  model: Promise<Embedder>,
  onProgress?: (p: BuildProgress) => void,
): Promise<{ index: IndexData; embedder: Embedder }> {
  // Opened before the model is there (most starts find the index fitting): discarded if it does not fit.
  const opening = store.openLive().then(
    (index) => ({ index }),
    (error: unknown) => ({ error }),
  );
  const embedder = await model;
  return { index: await fittingOrBuilt(config, store, embedder, opening, onProgress), embedder };
}

/** The index `opening` opened when it fits the model, the settings and the documents; else one built now. */
async function fittingOrBuilt(
  config: Config,
  store: IndexStore,
  embedder: Embedder,
  opening: Promise<{ index: IndexData } | { error: unknown }>,
  onProgress?: (p: BuildProgress) => void,
): Promise<IndexData> {
  let reuse = true;
  try {
    const opened = await opening;
    if ('error' in opened) throw opened.error;
    const reason = staleReason(config, embedder, opened.index.manifest);
    if (!reason) return opened.index;
    log.warn(`The index is out of date: ${reason}. Building the index now.`);
  } catch (err) {
    if (!(err instanceof IndexError) || err.kind === 'busy') throw err;
    log.warn(`${err.detail} Building the index now.`);
    reuse = err.kind !== 'corrupt'; // damaged files are not trusted for reuse
  }
  try {
    const summary = await store.build(buildSettings(config), embedder, onProgress, { reuse });
    for (const { file, reason } of summary.skipped) log.warn(`skipped ${file}: ${reason}`); // no summary is printed here
  } catch (err) {
    // The build failed (another process is building, the documents folder is missing or empty, a disk
    // error…): a usable live index answers meanwhile, as after a failed /reindex (not a damaged one).
    if (!reuse) throw err;
    const live = await store.openLive().catch(() => undefined);
    if (!live || !fitsModel(live.manifest, embedder)) throw err;
    log.warn(`${messageOf(err)} Answering from the live index (built ${live.manifest.builtAt}) meanwhile.`);
    return live;
  }
  return store.openLive();
}

const fitsModel = (manifest: Manifest, embedder: Embedder) =>
  manifest.modelIdentity === embedder.identity && manifest.dim === embedder.dim;

function retrievalSettings(config: Config) {
  return {
    efSearch: config.HNSW_EF_SEARCH,
    denseThreshold: config.DENSE_THRESHOLD,
    lexicalThreshold: config.LEXICAL_THRESHOLD,
  };
}

/** How the model an index was built with differs from `embedder`, if it does. */
function otherModel(manifest: Manifest, embedder: Embedder): string | undefined {
  if (manifest.model === embedder.modelId && manifest.modelIdentity !== embedder.identity) {
    return `it was built with another version of ${manifest.model} (${manifest.modelIdentity.replace(/^hub:/, '')}), the configured one is ${embedder.identity.replace(/^hub:/, '')}`;
  }
  if (!fitsModel(manifest, embedder)) {
    return `it was built with ${manifest.model} (dimension ${manifest.dim}), the configured model is ${embedder.modelId} (dimension ${embedder.dim})`;
  }
  return undefined;
}

/** Why the stored index no longer fits the model, the settings or the documents, if it does not. */
function staleReason(config: Config, embedder: Embedder, manifest: Manifest): string | undefined {
  const other = otherModel(manifest, embedder);
  if (other) return other;
  const key = fullEmbeddingKey(buildSettings(config));
  if (manifest.embeddingKey !== key) return embeddingKeyChange(manifest.embeddingKey, key);
  if (searchSettingsChanged(manifest, buildSettings(config)))
    return 'the vector search settings (HNSW_M, HNSW_EF_CONSTRUCTION, EXACT_SEARCH_MAX) changed';
  if (manifest.reading !== readingKey(readLimits(config)))
    return 'the reading settings (DOC_MAX_BYTES and the other DOC_ limits) or the rules for skipping files changed';
  return documentsChangedSince(config.SEEDS_DIR, manifest);
}
