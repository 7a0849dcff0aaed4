import { listDocumentFiles, readDocument, type DocumentFile, type SourceDocument } from '../documents/load.js';
import type { Manifest, ManifestDocument } from './manifest.js';

type Stat = Pick<DocumentFile, 'size' | 'mtimeMs'>;

/** What changed in the documents folder since the build described by a manifest. */
export interface Plan {
  /** Same size and modification time as at the last build: not even read. */
  kept: { file: DocumentFile; entry: ManifestDocument }[];
  /** Read again (touched, renamed or copied) but with the same content as a previous document. */
  reused: { doc: SourceDocument; previous: ManifestDocument; stat: Stat }[];
  /** New or changed: to be chunked and embedded. */
  fresh: SourceDocument[];
  /** Previous documents that are gone (or changed: their old chunks are dropped). */
  removed: ManifestDocument[];
  skipped: { file: string; reason: string; size: number; mtimeMs: number }[];
  /** Size and time of every file read this time. */
  stats: Map<string, Stat>;
  /** Every file is as it was at the last build: nothing to write. */
  unchanged: boolean;
}

const sameStat = (a: Stat, b: Stat) => a.size === b.size && a.mtimeMs === b.mtimeMs;

/**
 * Compares the documents folder with the last build: only files whose size or time changed are
 * read and cleaned, so a large unchanged collection costs one `stat` per file.
 */
export function planChanges(dir: string, maxBytes: number, previous?: Manifest): Plan {
  const prevDocs = new Map((previous?.documents ?? []).map((d) => [d.file, d]));
  const prevSkipped = new Map((previous?.skipped ?? []).map((s) => [s.file, s]));
  const plan: Plan = { kept: [], reused: [], fresh: [], removed: [], skipped: [], stats: new Map(), unchanged: false };
  const read: SourceDocument[] = [];
  for (const file of listDocumentFiles(dir)) {
    const entry = prevDocs.get(file.file);
    const skippedBefore = prevSkipped.get(file.file);
    if (entry && sameStat(entry, file)) {
      plan.kept.push({ file, entry });
      continue;
    }
    if (skippedBefore && sameStat(skippedBefore, file)) {
      plan.skipped.push(skippedBefore);
      continue;
    }
    const stat = { size: file.size, mtimeMs: file.mtimeMs };
    plan.stats.set(file.file, stat);
    const outcome = readDocument(dir, file, maxBytes);
    if (typeof outcome === 'string') {
      plan.skipped.push({ file: file.file, reason: outcome, ...stat });
    } else read.push(outcome);
  }
  // Content seen before (a touched, renamed or copied file) keeps its chunks and vectors.
  const keptFiles = new Set(plan.kept.map((k) => k.file.file));
  const available = new Map<string, ManifestDocument>();
  for (const d of previous?.documents ?? []) if (!keptFiles.has(d.file) && !available.has(d.hash)) available.set(d.hash, d);
  for (const doc of read) {
    const old = available.get(doc.hash);
    if (old) {
      available.delete(doc.hash);
      plan.reused.push({ doc, previous: old, stat: plan.stats.get(doc.file)! });
    } else plan.fresh.push(doc);
  }
  plan.removed = [...available.values()];
  const listed = plan.kept.length + plan.reused.length + plan.fresh.length + plan.skipped.length;
  plan.unchanged =
    previous !== undefined &&
    plan.kept.length === previous.documents.length &&
    plan.reused.length === 0 &&
    plan.fresh.length === 0 &&
    plan.skipped.every((s) => prevSkipped.get(s.file) === s) &&
    listed === previous.documents.length + plan.skipped.length;
  return plan;
}

/**
 * Why the build described by `manifest` no longer matches the documents folder (by size and time
 * only: nothing is read), or undefined when it does.
 */
export function documentsChangedSince(dir: string, manifest: Manifest): string | undefined {
  const known = new Map<string, Stat>([...manifest.documents, ...manifest.skipped].map((d) => [d.file, d]));
  const files = listDocumentFiles(dir);
  const changed = files.filter((f) => !known.has(f.file) || !sameStat(known.get(f.file)!, f)).length;
  const present = new Set(files.map((f) => f.file));
  const removed = manifest.documents.filter((d) => !present.has(d.file)).length;
  if (changed || removed) return `${changed} file(s) new or changed, ${removed} removed since it was built`;
  return undefined;
}
