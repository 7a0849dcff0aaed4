import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildIndex, type BuildSettings, type BuildSummary } from '../index/build.js';
import type { Embedder } from '../vectors/embedder.js';
import { silent, type Logger } from './common.js';
import { mulberry32, syntheticDocument, syntheticParagraph, vocabularyOf } from './synthetic.js';

// ---------------------------------------------------------------- 3. index build

export interface BuildResult {
  label: string;
  documents: number;
  chunks: number;
  totalMs: number;
  embedMs: number;
  chunksPerSecond: number;
  embedShare: number;
}

function describeBuildResult(label: string, s: BuildSummary): BuildResult {
  return {
    label,
    documents: s.documents,
    chunks: s.chunks,
    totalMs: s.totalMs,
    embedMs: s.embedMs,
    chunksPerSecond: s.chunks / (s.totalMs / 1000),
    embedShare: s.embedMs / s.totalMs,
  };
}

/** A full build (empty index folder) of `seedsDir` into a fresh folder; returns the folder too. */
export async function fullBuild(
  settings: Omit<BuildSettings, 'indexDir' | 'seedsDir'>,
  seedsDir: string,
  indexDir: string,
  embedder: Embedder,
  label: string,
): Promise<{ result: BuildResult; summary: BuildSummary }> {
  rmSync(indexDir, { recursive: true, force: true });
  const summary = await buildIndex({ ...settings, seedsDir, indexDir }, embedder);
  return { result: describeBuildResult(label, summary), summary };
}

// ---------------------------------------------------------------- 5. incremental re-index

/** Copies the seeds and adds generated documents (seeds' vocabulary) up to `total`; returns the new names. */
export function makeCorpus(seedsDir: string, dir: string, total: number, paragraphs = 12): string[] {
  mkdirSync(dir, { recursive: true });
  const seeds = readdirSync(seedsDir)
    .filter((n) => /\.(txt|md)$/i.test(n))
    .sort();
  for (const name of seeds) copyFileSync(path.join(seedsDir, name), path.join(dir, name));
  const vocab = vocabularyOf(seedsDir);
  const added: string[] = [];
  for (let i = 0; seeds.length + added.length < total; i++) {
    const name = `synthetic_${String(i).padStart(3, '0')}.txt`;
    writeFileSync(path.join(dir, name), syntheticDocument(vocab, 1000 + i, paragraphs));
    added.push(name);
  }
  return added;
}

export interface IncrementalResult {
  documents: number;
  full: BuildResult;
  unchanged: { embedded: string[]; totalMs: number };
  changedFile: string;
  incremental: { embedded: string[]; reused: number; embeddedChunks: number; totalMs: number; embedMs: number };
  /** incremental time / full build time */
  ratio: number;
}

export async function incrementalSection(
  settings: Omit<BuildSettings, 'indexDir' | 'seedsDir'>,
  embedder: Embedder,
  seedsDir: string,
  tempDir: string,
  documents: number,
  log: Logger = silent,
): Promise<IncrementalResult> {
  const corpus = path.join(tempDir, 'corpus');
  const indexDir = path.join(tempDir, 'incremental-index');
  rmSync(corpus, { recursive: true, force: true });
  const added = makeCorpus(seedsDir, corpus, documents);
  log(`incremental: full build of ${documents} documents`);
  const label = `${documents} documents (the documents folder + generated)`;
  const { result: full } = await fullBuild(settings, corpus, indexDir, embedder, label);
  const rebuild = () => buildIndex({ ...settings, seedsDir: corpus, indexDir }, embedder);
  const unchanged = await rebuild();
  const changedFile = added[Math.floor(added.length / 2)] ?? readdirSync(corpus).sort()[0]!;
  appendParagraph(path.join(corpus, changedFile), seedsDir);
  log(`incremental: rebuild after changing ${changedFile}`);
  const incr = await rebuild();
  return {
    documents: incr.documents,
    full,
    unchanged: { embedded: unchanged.embedded, totalMs: unchanged.totalMs },
    changedFile,
    incremental: {
      embedded: incr.embedded,
      reused: incr.reused.length,
      embeddedChunks: incr.embeddedChunks,
      totalMs: incr.totalMs,
      embedMs: incr.embedMs,
    },
    ratio: incr.totalMs / full.totalMs,
  };
}

/** One generated paragraph (the documents folder's vocabulary, deterministic) appended to `file`. */
function appendParagraph(file: string, seedsDir: string): void {
  const paragraph = syntheticParagraph(vocabularyOf(seedsDir), mulberry32(77), 3);
  writeFileSync(file, readFileSync(file, 'utf8') + '\n' + paragraph + '\n');
}
