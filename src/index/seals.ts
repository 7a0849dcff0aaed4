import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sha256, sha256File } from './layout.js';

/*
 * Seals: `seals.json` in a build folder records, for each of its files, the sha256 of the content it
 * had when it was last hashed, with the file's size, modification time, status-change time (ctime)
 * and inode at that moment. While all four are unchanged the file holds that very content: writing
 * or truncating it changes mtime and ctime, replacing or renaming another file over it changes the
 * inode, and ctime cannot be set back (utimes sets it to now). So checking a build against its
 * manifest's checksums costs a `stat` per file instead of a read of hundreds of MB (at 100,000
 * passages ~400 MB, 1.5 s on a busy 2-core machine, at every start and every re-index).
 * What this does not catch is damage beneath the file system (a disk flipping bits). A seal is only a
 * cache of a hash: missing, unreadable or stale, the file is hashed as before and sealed again.
 */
export const SEALS_FILE = 'seals.json';

interface Stamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}
type Seal = Stamp & { sha256: string };

function stampOf(file: string): Stamp {
  const s = statSync(file);
  return { size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino };
}

const sameStamp = (a: Stamp, b: Stamp) =>
  a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;

function readSeals(dir: string): Record<string, Seal> {
  try {
    const seals = JSON.parse(readFileSync(path.join(dir, SEALS_FILE), 'utf8')) as unknown;
    return seals && typeof seals === 'object' ? (seals as Record<string, Seal>) : {};
  } catch {
    return {}; // none yet, or unreadable: everything is hashed
  }
}

/** Adds seals (replacing the file atomically; two processes sealing at once may lose one's entries: they are hashed again later). */
function writeSeals(dir: string, added: Record<string, Seal>): void {
  const file = path.join(dir, SEALS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify({ ...readSeals(dir), ...added }));
    renameSync(tmp, file);
  } catch {
    // A read-only or vanished build folder: no seal, the next check hashes again.
  }
}

/** The sealed sha256 of `file` if it is unchanged since it was sealed. */
function sealedHash(file: string, stamp: Stamp): string | undefined {
  const seal = readSeals(path.dirname(file))[path.basename(file)];
  return seal && sameStamp(seal, stamp) ? seal.sha256 : undefined;
}

/** sha256 of a file: from its seal while the file is unchanged, else read (in pieces) and sealed. */
export async function sealedSha256(file: string): Promise<string> {
  const before = stampOf(file);
  const sealed = sealedHash(file, before);
  if (sealed) return sealed;
  const hash = await sha256File(file);
  // Sealed only if nothing touched the file while it was read.
  if (sameStamp(before, stampOf(file)))
    writeSeals(path.dirname(file), { [path.basename(file)]: { ...before, sha256: hash } });
  return hash;
}

/**
 * A file's content and its sha256 (hashed only when the seal does not vouch for it); `read` reads
 * it (into shared memory, say).
 */
export function readSealed(
  file: string,
  read: (file: string) => Buffer = readFileSync,
): { data: Buffer; sha256: string } {
  const before = stampOf(file);
  const data = read(file);
  const sealed = sealedHash(file, before);
  if (sealed) return { data, sha256: sealed };
  const hash = sha256(data);
  if (sameStamp(before, stampOf(file)))
    writeSeals(path.dirname(file), { [path.basename(file)]: { ...before, sha256: hash } });
  return { data, sha256: hash };
}

/**
 * Seals files whose sha256 this process knows (a build it just wrote and linked). Called once the
 * build folder is final: a hard link made or removed changes the linked file's ctime.
 */
export function sealKnown(dir: string, checksums: Record<string, string>): void {
  const added: Record<string, Seal> = {};
  for (const [name, hash] of Object.entries(checksums)) {
    try {
      added[name] = { ...stampOf(path.join(dir, name)), sha256: hash };
    } catch {
      // gone: nothing to seal
    }
  }
  writeSeals(dir, added);
}
