import { log } from '../log.js';
import { messageOf } from '../paths.js';
import type { Embedder } from '../vectors/embedder.js';
import {
  buildIndex,
  damagedFile,
  type BuildOptions,
  type BuildProgress,
  type BuildSettings,
  type BuildSummary,
} from './build.js';
import { buildFolder, generationLabel, sameGeneration, type Generation, type LiveGeneration } from './generation.js';
import type { IndexData, StoredIndex } from './indexData.js';
import { IndexError, liveBuildDir } from './layout.js';
import { loadIndex } from './loader.js';
import { lockIndex } from './lock.js';
import { readManifest, type Manifest } from './manifest.js';
import type { IndexStore } from './store.js';
import { TextsReader } from './texts.js';

/** How often a serving process looks for a build another process made live. */
const WATCH_MS = 2_000;

/** The index as build folders in one directory (INDEX_DIR): one process builds, any number read. */
export class FileIndexStore implements IndexStore {
  /** The index this store last opened for the process: a followed build shares its unchanged files with it. */
  private latest: WeakRef<StoredIndex> | undefined;

  constructor(readonly dir: string) {}

  async liveManifest(): Promise<LiveGeneration> {
    const { build, manifest } = readManifest(this.dir);
    return { generation: buildFolder(build), manifest };
  }

  async openLive(replacing?: IndexData): Promise<StoredIndex> {
    const index = await loadIndex(this.dir, replacing);
    this.latest = new WeakRef(index);
    return index;
  }

  build(
    settings: BuildSettings,
    embedder: Embedder,
    onProgress?: (p: BuildProgress) => void,
    options?: BuildOptions,
  ): Promise<BuildSummary> {
    return buildIndex({ ...settings, indexDir: this.dir }, embedder, onProgress, options);
  }

  async unchangedSince(generation: Generation): Promise<Manifest | undefined> {
    let live: { build: string; manifest: Manifest };
    try {
      live = readManifest(this.dir);
    } catch {
      return undefined; // missing or damaged: the build says what to do
    }
    if (!sameGeneration(buildFolder(live.build), generation)) return undefined;
    const unlock = lockIndex(this.dir); // another build running is "busy", as from a build
    try {
      return (await damagedFile(live.build, live.manifest)) ? undefined : live.manifest;
    } finally {
      unlock();
    }
  }

  /**
   * Calls `onNew` with each build another process makes live in this folder (`npm run index` in a
   * terminal while the bot runs): CURRENT is looked at every `everyMs`, a small file's read. The
   * answers go on from the index in use until the new one is loaded. Returns the function that stops.
   */
  follow(current: () => Generation | undefined, onNew: (index: IndexData) => void, everyMs = WATCH_MS): () => void {
    let busy = false;
    let refused: string | undefined; // a build that did not load is not read again every look
    const check = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        const build = liveBuildDir(this.dir);
        const mine = current();
        if (build === undefined || build === refused || !mine || sameGeneration(buildFolder(build), mine)) return;
        const index = await this.openLive(this.latest?.deref()).catch((err: unknown) => {
          if (!(err instanceof IndexError && err.kind === 'busy')) refused = build; // replaced while read: looked at again
          throw err;
        });
        const now = current(); // the engine's own re-index may have switched meanwhile
        if (now && !sameGeneration(index.generation, now)) {
          onNew(index);
          log.info(`the index built beside this process is live: ${generationLabel(index.generation)}`);
        }
      } catch (err) {
        log.warn(
          `A new build of the index was found but does not load (${messageOf(err)}); answering from the one in use.`,
        );
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(check, everyMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  texts({ generation, manifest }: LiveGeneration): TextsReader | undefined {
    return generation.store === 'files' ? TextsReader.open({ build: generation.folder, manifest }) : undefined;
  }

  async close(): Promise<void> {}
}
