import { randomBytes } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FILES, sha256, sha256File } from './layout.js';
import { checkedManifest, type Manifest } from './manifest.js';
import { sealKnown } from './seals.js';

/**
 * Writes one build folder. Every file is either new data or a hard link to the previous build's
 * unchanged file; `commit` writes the manifest with all checksums and makes the build live.
 */
export class BuildWriter {
  readonly name = `build-${Date.now()}-${randomBytes(3).toString('hex')}`;
  readonly dir: string;
  private readonly checksums: Record<string, string> = {};

  constructor(private readonly indexDir: string) {
    mkdirSync(indexDir, { recursive: true });
    this.dir = path.join(indexDir, this.name);
    mkdirSync(this.dir);
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  /** Writes a data file; `checksum`: its sha256 when the caller computed it already. */
  put(name: string, data: Buffer | Uint8Array, checksum = sha256(data)): void {
    writeFileSync(this.file(name), data);
    this.checksums[name] = checksum;
  }

  /** Reuses an unchanged file of the previous build (its checksum is already known). */
  reuse(name: string, from: string, checksum: string): void {
    try {
      linkSync(from, this.file(name));
    } catch {
      copyFileSync(from, this.file(name)); // file systems without hard links
    }
    this.checksums[name] = checksum;
  }

  /** A file written by other code whose checksum that code knows (appendable.ts). */
  known(name: string, checksum: string): void {
    this.checksums[name] = checksum;
  }

  /** A file written by other code (the native HNSW writer), checksummed after the fact. */
  async written(name: string): Promise<void> {
    this.checksums[name] = await sha256File(this.file(name));
  }

  commit(manifest: Omit<Manifest, 'checksums'>): void {
    const checked = checkedManifest({ ...manifest, checksums: this.checksums });
    writeFileSync(this.file(FILES.manifest), JSON.stringify(checked, null, 2));
    // The switch: rename is atomic, so readers see either the old build or the new one.
    const pointer = path.join(this.indexDir, `CURRENT.${process.pid}.tmp`);
    writeFileSync(pointer, this.name);
    renameSync(pointer, path.join(this.indexDir, 'CURRENT'));
    removeStaleBuilds(this.indexDir, this.name);
    // After the removal: unlinking the previous build's copies changed the ctime of the files linked from it.
    sealKnown(this.dir, this.checksums);
  }

  /** Removes this unfinished build (the live one is untouched). */
  abandon(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Removes half-written builds of crashed runs and superseded builds. A reader still loading the
 * superseded one starts over on the new one (loader.ts); a process serving it keeps the files it
 * has open (chunks.jsonl, texts.jsonl) until it swaps, the rest it holds in memory. So no build is
 * kept for readers (a full one is ~400 MB at 100,000 passages); only those open files keep their
 * disk space until the process lets go of them.
 */
function removeStaleBuilds(dir: string, keep: string): void {
  for (const entry of readdirSync(dir)) {
    if ((entry.startsWith('build-') || entry.startsWith('CURRENT.')) && entry !== keep) {
      rmSync(path.join(dir, entry), { recursive: true, force: true });
    }
  }
}
