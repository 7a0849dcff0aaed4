import { DocumentReader } from '../../src/documents/isolated.js';
import { listDocumentFiles, type SourceDocument } from '../../src/documents/load.js';
import { DEFAULT_READ_LIMITS, type ReadLimits } from '../../src/documents/readers/types.js';

// A build reads only what changed (index/changes.ts); the tests read a whole folder at once,
// through the same reading worker and the same limits.

export interface LoadResult {
  documents: SourceDocument[];
  /** Files that were skipped, with the reason (shown to the user, never thrown). */
  skipped: { file: string; reason: string }[];
}

/** Every document of the folder, read in a worker thread (see isolated.ts) within `limits`. */
export async function loadDocuments(dir: string, limits: Partial<ReadLimits> = {}): Promise<LoadResult> {
  const result: LoadResult = { documents: [], skipped: [] };
  const reader = new DocumentReader({ ...DEFAULT_READ_LIMITS, maxBytes: Number.POSITIVE_INFINITY, ...limits });
  try {
    for (const entry of listDocumentFiles(dir)) {
      const outcome = await reader.read(dir, entry);
      if (typeof outcome === 'string') result.skipped.push({ file: entry.file, reason: outcome });
      else result.documents.push(outcome);
    }
  } finally {
    await reader.close();
  }
  return result;
}
