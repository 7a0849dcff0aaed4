import { DocumentReader } from '../documents/isolated.js';
import { DocumentsError, listDocumentFiles, type DocumentFile, type SourceDocument } from '../documents/load.js';
import type { ReadLimits } from '../documents/readers/types.js';
import { SKIP_RULES_VERSION } from '../documents/version.js';
import type { Manifest, ManifestDocument } from './manifest.js';

type Stat = Pick<DocumentFile, 'size' | 'mtimeMs'>;

/** A document read again whose content is that of a previous document: its chunks and vectors are reused. */
export interface Reuse {
  doc: SourceDocument;
  previous: ManifestDocument;
  stat: Stat;
}

/** What changed in the documents folder since the build described by a manifest. */
export interface Plan {
  /** Same size and modification time as at the last build: not even read. */
  kept: { file: DocumentFile; entry: ManifestDocument }[];
  /** Read again (touched, or renamed/moved) with the content of a previous document that is gone under its old name. */
  reused: Reuse[];
  /** A copy of a previous document that is still there: new labels, the original's chunks and vectors. */
  copied: Reuse[];
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

/** The settings and rules that decide whether a file is read: when they change, files skipped before are read again. */
export const readingKey = (limits: ReadLimits) => JSON.stringify({ ...limits, skipRules: SKIP_RULES_VERSION });

const sameStat = (a: Stat, b: Stat) => a.size === b.size && a.mtimeMs === b.mtimeMs;

/**
 * Compares the documents folder with the last build: only files whose size or time changed are
 * read and cleaned, so a large unchanged collection costs one `stat` per file. When the reading
 * settings changed (DOC_MAX_BYTES and the other DOC_ limits), the files skipped before are read
 * again, and unchanged documents over a lowered size limit are too (to be skipped).
 * Files are read in a worker thread (documents/isolated.ts): one that exceeds the limits is skipped.
 */
export async function planChanges(
  dir: string,
  limits: ReadLimits,
  previous?: Manifest,
  /** A reader kept by the caller (with these limits) between plans; else one is started and ended here. */
  shared?: DocumentReader,
): Promise<Plan> {
  const reader = shared ?? new DocumentReader(limits);
  try {
    return await plan(dir, limits, reader, previous);
  } finally {
    if (!shared) await reader.close();
  }
}

async function plan(dir: string, limits: ReadLimits, reader: DocumentReader, previous?: Manifest): Promise<Plan> {
  const maxBytes = limits.maxBytes;
  const prevDocs = new Map((previous?.documents ?? []).map((d) => [d.file, d]));
  const sameReading = previous?.reading === readingKey(limits);
  const prevSkipped = new Map(sameReading ? (previous?.skipped ?? []).map((s) => [s.file, s]) : []);
  const plan: Plan = {
    kept: [],
    reused: [],
    copied: [],
    fresh: [],
    removed: [],
    skipped: [],
    stats: new Map(),
    unchanged: false,
  };
  const read: SourceDocument[] = [];
  for (const file of listDocumentFiles(dir)) {
    const entry = prevDocs.get(file.file);
    const skippedBefore = prevSkipped.get(file.file);
    // A link to nothing or outside keeps no document, even with the size and time of the file it replaced.
    if (entry && !file.unusable && sameStat(entry, file) && entry.size <= maxBytes) {
      plan.kept.push({ file, entry });
      continue;
    }
    if (skippedBefore && sameStat(skippedBefore, file)) {
      plan.skipped.push(skippedBefore);
      continue;
    }
    const stat = { size: file.size, mtimeMs: file.mtimeMs };
    plan.stats.set(file.file, stat);
    const outcome = await reader.read(dir, file);
    if (typeof outcome === 'string') {
      plan.skipped.push({ file: file.file, reason: outcome, ...stat });
    } else read.push(outcome);
  }
  matchPrevious(plan, read, previous);
  const listed = plan.kept.length + plan.reused.length + plan.copied.length + plan.fresh.length + plan.skipped.length;
  plan.unchanged =
    previous !== undefined &&
    sameReading &&
    plan.kept.length === previous.documents.length &&
    plan.reused.length + plan.copied.length + plan.fresh.length === 0 &&
    plan.skipped.every((s) => prevSkipped.get(s.file) === s) &&
    listed === previous.documents.length + previous.skipped.length; // a skipped file taken out (/remove) is a change too
  return plan;
}

/**
 * Content seen before keeps its chunks and vectors: matched by identity (`hash`: the bytes and how
 * they are read, so a .txt renamed .md is read anew), a touched file takes back its own entry, a
 * renamed or moved one the entry of a document gone under its old name, and a copy of a document
 * that is still there gets the original's chunks and vectors under new labels.
 */
function matchPrevious(plan: Plan, read: SourceDocument[], previous: Manifest | undefined): void {
  const byHash = new Map<string, ManifestDocument>();
  for (const d of previous?.documents ?? []) if (!byHash.has(d.hash)) byHash.set(d.hash, d);
  const claimed = new Set<string>(plan.kept.map((k) => k.entry.file));
  const own = new Map((previous?.documents ?? []).map((d) => [d.file, d]));
  const pending: SourceDocument[] = [];
  for (const doc of read) {
    const mine = own.get(doc.file);
    if (mine && mine.hash === doc.hash) {
      claimed.add(mine.file);
      plan.reused.push({ doc, previous: mine, stat: plan.stats.get(doc.file)! });
    } else pending.push(doc);
  }
  const present = new Set([...plan.kept.map((k) => k.file.file), ...read.map((d) => d.file)]);
  for (const doc of pending) {
    const old =
      previous?.documents.find((d) => d.hash === doc.hash && !claimed.has(d.file) && !present.has(d.file)) ??
      byHash.get(doc.hash);
    const reuse = old && { doc, previous: old, stat: plan.stats.get(doc.file)! };
    if (!reuse) plan.fresh.push(doc);
    else if (claimed.has(reuse.previous.file) || present.has(reuse.previous.file)) plan.copied.push(reuse);
    else {
      claimed.add(reuse.previous.file);
      plan.reused.push(reuse);
    }
  }
  plan.removed = (previous?.documents ?? []).filter((d) => !claimed.has(d.file));
}

/**
 * Why the build described by `manifest` no longer matches the documents folder (by size and time
 * only: nothing is read), or undefined when it does.
 */
export function documentsChangedSince(dir: string, manifest: Manifest): string | undefined {
  const known = new Map<string, Stat>([...manifest.documents, ...manifest.skipped].map((d) => [d.file, d]));
  let files: DocumentFile[];
  try {
    files = listDocumentFiles(dir);
  } catch (err) {
    // The folder is unreadable now (not mounted yet, say): a reason to build, whose failure says so
    // while the live index answers (engine.ts); it was thrown before any index could answer.
    if (err instanceof DocumentsError) return `the documents cannot be listed (${err.message})`;
    throw err;
  }
  const indexed = new Set(manifest.documents.map((d) => d.file));
  const changed = files.filter(
    (f) => !known.has(f.file) || !sameStat(known.get(f.file)!, f) || (f.unusable && indexed.has(f.file)),
  ).length;
  const present = new Set(files.map((f) => f.file));
  const removed = [...manifest.documents, ...manifest.skipped].filter((d) => !present.has(d.file)).length;
  if (changed || removed) return `${changed} file(s) new or changed, ${removed} removed since it was built`;
  return undefined;
}
