import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { calibrationSchema } from './calibration.js';
import { corruptError, FILES, graphFile, IndexError, liveBuildDir } from './layout.js';
import { messageOf, shownPath } from '../paths.js';

/** manifest.json: what a build holds, how it was made, and the checksum of each data file. */
const statFields = { size: z.number().int().nonnegative(), mtimeMs: z.number() };

const manifestSchema = z.object({
  formatVersion: z.literal(2),
  /** The model as configured (for people) and its identity (what decides whether vectors can be reused). */
  model: z.string(),
  modelIdentity: z.string(),
  dim: z.number().int().positive(),
  /** Everything else that changes the vectors (prefixes, dtype, chunking): a mismatch means re-embed. */
  embeddingKey: z.string(),
  documents: z.array(
    z.object({
      file: z.string(),
      title: z.string(),
      hash: z.string(),
      ...statFields,
      firstLabel: z.number().int().nonnegative(),
      chunks: z.number().int().nonnegative(),
      /** The document's most frequent names, for /help's example questions. */
      names: z.array(z.tuple([z.string(), z.number()])).optional(),
    }),
  ),
  /** The reading settings (see index/changes `readingKey`): when they change, skipped files are read again. */
  reading: z.string().optional(),
  /** Files that were not usable, with their size and time: they are not read again until they change. */
  skipped: z.array(z.object({ file: z.string(), reason: z.string(), ...statFields })),
  /** Label slots (lines of chunks.jsonl, rows of vectors.f32), including deleted ones. */
  labels: z.number().int().nonnegative(),
  /** Live chunks. */
  chunkCount: z.number().int().nonnegative(),
  /** HNSW settings when the corpus is searched through HNSW; null = exact search. */
  hnsw: z
    .object({
      M: z.number().int(),
      efConstruction: z.number().int(),
      efSearch: z.number().int(),
      recallAt10: z.number(),
      tunedAtChunks: z.number().int(),
      /**
       * Labels [0, graphLabels) are in hnsw.bin; the ones after (added since it was written) are
       * searched exactly beside it, from their rows of vectors.f32 (absent: all labels are in the graph).
       */
      graphLabels: z.number().int().nonnegative().optional(),
      /** Labels of the graph deleted since it was written: marked deleted when it is loaded. */
      unmarked: z.array(z.number().int().nonnegative()).optional(),
      /**
       * The first label of each part of the graph, part i in `graphFile(i)` (dense.ts GraphParts);
       * absent: one part, hnsw.bin.
       */
      parts: z.array(z.number().int().nonnegative()).optional(),
    })
    .nullable(),
  /** Example questions for /help, drawn from the documents at build time. */
  examples: z.array(z.string()).default([]),
  /** How "not covered" is decided for this model and corpus (see index/calibration.ts). */
  calibration: calibrationSchema.optional(),
  builtAt: z.string(),
  buildMs: z.number(),
  /** sha256 of each data file: corruption is reported instead of crashing the native reader. */
  checksums: z.record(z.string(), z.string()),
});
export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestDocument = Manifest['documents'][number];

/** The live build's manifest (no data files read): enough to decide whether a rebuild is needed. */
export function readManifest(dir: string): { build: string; manifest: Manifest } {
  const build = liveBuildDir(dir);
  if (!build) throw new IndexError(`No index in ${shownPath(dir)} yet.`, 'missing');
  try {
    return {
      build,
      manifest: manifestSchema.parse(JSON.parse(readFileSync(path.join(build, FILES.manifest), 'utf8'))),
    };
  } catch (err) {
    throw corruptError(dir, `manifest.json unreadable: ${whyUnreadable(err)}`);
  }
}

/**
 * One line saying what is wrong: zod's own message is its issues as a JSON array (the first line
 * was "["), and JSON.parse's quotes the file (which may hold a model's absolute path).
 */
function whyUnreadable(err: unknown): string {
  if (err instanceof z.ZodError) {
    const [first] = err.issues;
    const more = err.issues.length > 1 ? ` (and ${err.issues.length - 1} more)` : '';
    return first ? `${first.path.join('.') || 'the manifest'}: ${first.message}${more}` : 'does not fit its schema';
  }
  if (err instanceof SyntaxError) return 'not valid JSON';
  return messageOf(err).split('\n')[0]!;
}

/**
 * A build's manifest as it will be written, checked against the schema it is read with: an invalid
 * one would leave an index that every later run finds damaged, so the build fails instead.
 */
export function checkedManifest(manifest: Manifest): Manifest {
  const checked = manifestSchema.safeParse(manifest);
  if (!checked.success) throw new Error(`The new build's manifest is invalid: ${whyUnreadable(checked.error)}.`);
  return manifest;
}

/** The first label and the file of each part of a build's graph (one part, hnsw.bin, unless it names more). */
export function graphPartsOf(hnsw: NonNullable<Manifest['hnsw']>): { starts: number[]; files: string[] } {
  const starts = hnsw.parts ?? [0];
  return { starts, files: starts.map((_, i) => graphFile(i)) };
}
