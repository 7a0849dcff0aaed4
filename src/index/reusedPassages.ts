import { closeSync, fstatSync, openSync } from 'node:fs';
import { log } from '../log.js';
import type { PreviousFiles } from './buildParts.js';
import { FILES, readFully } from './layout.js';
import type { ManifestDocument } from './manifest.js';
import { hasFile, previousChunks } from './tails.js';

/** Stored vectors by the exact passage text they were embedded from (same model and prefix: the build checked). */
export type KnownVectors = ReadonlyMap<string, Float32Array>;

/** A store's previous vectors of those of `texts` it holds (for documents that changed or went). */
export type StoredVectors = (texts: ReadonlySet<string>) => KnownVectors | Promise<KnownVectors>;

/**
 * The vectors of the previous build's passages of `documents` (changed or gone) whose text is one
 * of `texts`: a changed document then embeds only its passages that are new, not all of them again
 * (one paragraph edited in a 300-page report: one passage, not 1,200). Only those rows are read,
 * where they lie. The build checked the files' checksums before; anything unreadable here gives no
 * reuse, and embedding everything is always right.
 */
export function previousPassageVectors(
  previous: PreviousFiles,
  documents: ManifestDocument[],
  texts: ReadonlySet<string>,
  dim: number,
): KnownVectors {
  const known = new Map<string, Float32Array>();
  if (documents.length === 0) return known;
  try {
    const chunks = previousChunks(previous, true);
    const rows = new VectorRows(previous, dim);
    try {
      for (const d of documents)
        for (let label = d.firstLabel; label < d.firstLabel + d.chunks; label++) {
          const text = chunks.get(label)?.text;
          if (text !== undefined && texts.has(text) && !known.has(text)) known.set(text, rows.get(label));
        }
    } finally {
      rows.close();
    }
  } catch (err) {
    log.warn(
      { err },
      'index: the previous passages could not be read; every passage of a changed document is embedded',
    );
    known.clear();
  }
  return known;
}

/** Rows of vectors.f32 and, after its own, of vectors-tail.f32, read one at a time. */
class VectorRows {
  private readonly fds: number[] = [];
  private readonly baseRows: number;

  constructor(
    previous: PreviousFiles,
    private readonly dim: number,
  ) {
    this.fds.push(openSync(previous.path(FILES.vectors), 'r'));
    try {
      this.baseRows = fstatSync(this.fds[0]!).size / (dim * 4);
      if (hasFile(previous, FILES.vectorsTail)) this.fds.push(openSync(previous.path(FILES.vectorsTail), 'r'));
    } catch (err) {
      this.close();
      throw err;
    }
  }

  get(label: number): Float32Array {
    const [fd, row] = label < this.baseRows ? [this.fds[0], label] : [this.fds[1], label - this.baseRows];
    if (fd === undefined) throw new Error(`no vector row for label ${label}`);
    const out = new Float32Array(this.dim);
    readFully(fd, new Uint8Array(out.buffer), row * this.dim * 4);
    return out;
  }

  close(): void {
    for (const fd of this.fds) closeSync(fd);
  }
}
