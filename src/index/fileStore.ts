import type { Embedder } from '../vectors/embedder.js';
import {
  buildIndex,
  damagedFile,
  type BuildOptions,
  type BuildProgress,
  type BuildSettings,
  type BuildSummary,
} from './build.js';
import { buildFolder, sameGeneration, type Generation, type LiveGeneration } from './generation.js';
import type { IndexData, StoredIndex } from './indexData.js';
import { loadIndex } from './loader.js';
import { lockIndex } from './lock.js';
import { readManifest, type Manifest } from './manifest.js';
import type { IndexStore } from './store.js';
import { TextsReader } from './texts.js';

/** The index as build folders in one directory (INDEX_DIR): one process builds, any number read. */
export class FileIndexStore implements IndexStore {
  constructor(readonly dir: string) {}

  async liveManifest(): Promise<LiveGeneration> {
    const { build, manifest } = readManifest(this.dir);
    return { generation: buildFolder(build), manifest };
  }

  openLive(replacing?: IndexData): Promise<StoredIndex> {
    return loadIndex(this.dir, replacing);
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

  /** One directory has one writer at a time and its readers swap on their own re-index. */
  follow(): () => void {
    return () => {};
  }

  texts({ generation, manifest }: LiveGeneration): TextsReader | undefined {
    return generation.store === 'files' ? TextsReader.open({ build: generation.folder, manifest }) : undefined;
  }

  async close(): Promise<void> {}
}
