/**
 * Smoke test of the benchmark (`npm run bench`): every section runs at tiny sizes with the offline
 * test model and gives sane numbers. No timing assertions: only shapes, ranges and invariants.
 */
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderMarkdown, runBench, type BenchResult } from '../src/bench/bench.js';
import { makeCorpus } from '../src/bench/builds.js';
import { chooseModel, percentiles } from '../src/bench/common.js';
import { declineAccuracy } from '../src/bench/quality.js';
import { mulberry32, syntheticDocument, vocabularyOf } from '../src/bench/synthetic.js';
import { loadDocuments } from './support/loadDocuments.js';
import { readQuestions } from '../src/retrieval/evaluate.js';
import { DEV_SET, SEEDS, tempDirs, testModelDir } from './support/testModel.js';

const tmp = tempDirs('cite-bench-test-');
const inUnit = (x: number) => x >= 0 && x <= 1;

describe('bench helpers', () => {
  it('percentiles are nearest-rank and ordered', () => {
    const p = percentiles(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(p.p50).toBe(50);
    expect(p.p95).toBe(95);
    expect(p.mean).toBeCloseTo(50.5);
    expect(Number.isNaN(percentiles([]).p50)).toBe(true);
  });

  it('decline accuracy counts both kinds of decision', () => {
    const report = {
      mode: 'hybrid' as const,
      groups: { all: { questions: 8, recall1: 0, recall5: 0, mrr: 0 } },
      declines: {},
      declined: 0.5,
      wronglyDeclined: 0.25,
      unanswerable: 2,
    };
    expect(declineAccuracy(report)).toBeCloseTo((1 + 6) / 10);
  });

  it('generated documents are deterministic and accepted by the loader', async () => {
    const vocab = vocabularyOf(SEEDS);
    expect(syntheticDocument(vocab, 5)).toBe(syntheticDocument(vocab, 5));
    expect(syntheticDocument(vocab, 5)).not.toBe(syntheticDocument(vocab, 6));
    const dir = tmp();
    const added = makeCorpus(SEEDS, dir, 9);
    const { documents, skipped } = await loadDocuments(dir);
    expect(skipped).toEqual([]);
    expect(documents).toHaveLength(9);
    expect(added).toHaveLength(9 - (await loadDocuments(SEEDS)).documents.length);
    expect(mulberry32(1)()).toBe(mulberry32(1)());
  });
});

describe('bench run (tiny sizes, test model)', () => {
  let result: BenchResult;

  beforeAll(async () => {
    const model = await testModelDir();
    result = await runBench(
      {
        quick: true,
        qaFile: DEV_SET,
        env: {
          EMBED_MODEL: model,
          SEEDS_DIR: SEEDS,
          EMBED_CACHE_DIR: path.join(os.tmpdir(), 'cite-test-cache'),
          EMBED_ALLOW_DOWNLOAD: 'false',
          LOG_LEVEL: 'silent',
        },
        sizes: {
          scale: { documents: 12, paragraphs: 30, questions: 20, efSearch: [50, 200], exactSearchMax: 100 },
          latencyQueries: 20,
          incrementalDocs: 8,
        },
      },
      () => {},
    );
  }, 420_000); // generous: a loaded machine (the PostgreSQL part measures ef_search and serves from a fresh process)

  it('reports the machine and the configured model', () => {
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.model.dim).toBe(384);
    expect(result.model.note).toMatch(/configured model/);
  });

  it('scores quality for the three modes; hybrid MRR is at least that of either alone', () => {
    const quality = result.quality!;
    expect(quality.map((q) => q.mode)).toEqual(['hybrid', 'dense', 'lexical']);
    const items = readQuestions(DEV_SET);
    for (const q of quality) {
      const all = q.report.groups.all!;
      expect(all.questions).toBe(items.filter((i) => i.gold.length > 0).length);
      for (const x of [
        all.recall1,
        all.recall5,
        all.mrr,
        q.report.declined,
        q.report.wronglyDeclined,
        q.declineAccuracy,
      ])
        expect(inUnit(x)).toBe(true);
      expect(all.recall5).toBeGreaterThanOrEqual(all.recall1);
      expect(all.mrr).toBeGreaterThanOrEqual(all.recall1);
    }
    const mrr = (mode: string) => quality.find((q) => q.mode === mode)!.report.groups.all!.mrr;
    expect(mrr('hybrid')).toBeGreaterThanOrEqual(mrr('dense'));
    expect(mrr('hybrid')).toBeGreaterThanOrEqual(mrr('lexical'));
  });

  it('measures the query path with an embedding / rest split', () => {
    const q = result.queryPath;
    expect(q.queries).toBeGreaterThanOrEqual(17);
    expect(q.total.p95).toBeGreaterThanOrEqual(q.total.p50);
    expect(q.embed.p50).toBeGreaterThan(0);
    expect(q.rest.p50).toBeGreaterThanOrEqual(0);
    expect(q.embed.mean + q.rest.mean).toBeCloseTo(q.total.mean, 6);
    expect(inUnit(q.embedShare)).toBe(true);
    expect(q.messages).toBeGreaterThanOrEqual(q.queries); // at least one message per reply
  });

  it('measures full builds', () => {
    expect(result.builds).toHaveLength(2);
    for (const b of result.builds) {
      expect(b.chunks).toBeGreaterThan(0);
      expect(b.chunksPerSecond).toBeGreaterThan(0);
      expect(inUnit(b.embedShare)).toBe(true);
      expect(b.embedMs).toBeLessThanOrEqual(b.totalMs);
    }
    expect(result.builds[1]!.documents).toBe(8);
  });

  it('reads a generated document of each format, the PDF with its pages', () => {
    const rows = result.reading!.rows;
    expect(rows.map((r) => r.format)).toEqual([
      'PDF',
      'DOCX',
      'HTML',
      'Markdown',
      'text (UTF-8)',
      'text (Windows-1252)',
      'small text files',
    ]);
    expect(rows[0]!.pages).toBe(result.reading!.pdfPages);
    // Each read both ways: in the reading worker (as builds read) and in process (as they did before).
    for (const r of rows)
      expect([r.bytes > 0, r.passages > 0, r.readMs > 0, r.inProcessMs > 0]).toEqual([true, true, true, true]);
    expect(result.reading!.workerStartMs).toBeGreaterThan(0);
    expect(renderMarkdown(result)).toContain('## 6. Reading documents');
  });

  it('serves the generated collection from a fresh process: start, queries, memory, re-index while answering', () => {
    const s = result.scale;
    expect(s.documents).toBe(12);
    expect(s.chunks).toBeGreaterThan(100); // above exactSearchMax: HNSW is used
    expect(Object.keys(s.files).sort()).toEqual([
      'chunks.jsonl',
      'hnsw.bin',
      'lexical.bin',
      'manifest.json',
      'seals.json', // the checksums' seals (index/seals.ts): part of what a build writes
      'texts.jsonl',
      'vectors.f32',
    ]);
    expect(s.dense.tunedEf).not.toBeNull();
    expect(s.dense.rows.map((r) => r.ef)).toEqual([...new Set([50, 200, s.dense.tunedEf!])].sort((a, b) => a - b));
    for (const r of s.dense.rows) {
      expect(inUnit(r.recall10)).toBe(true);
      expect(r.p95).toBeGreaterThanOrEqual(r.p50);
    }
    expect(inUnit(s.lexical.agreementAt10)).toBe(true);
    expect(s.lexical.query.p95).toBeGreaterThanOrEqual(s.lexical.query.p50);
    if ('error' in s.serve) throw new Error(s.serve.error);
    const serve = s.serve;
    expect(serve.queries).toBe(20);
    expect(serve.startToFirstAnswerMs).toBeGreaterThan(serve.openMs);
    expect(serve.rssSteadyBytes).toBeGreaterThan(0);
    expect(serve.reindexUnchanged.upToDate).toBe(true);
    expect(serve.reindexOneChanged.embeddedChunks).toBeGreaterThan(0);
    expect(serve.reindexOneChanged.errors).toEqual([]); // every question answered during the re-index
    expect(serve.reindexOneChanged.answered).toBe(serve.reindexOneChanged.asked);
    expect(serve.reindexOneChanged.foundNewText).toBe(true);
  });

  it('re-embeds only the changed document', () => {
    const inc = result.incremental;
    expect(inc.documents).toBe(8);
    expect(inc.unchanged.embedded).toEqual([]);
    expect(inc.incremental.embedded).toEqual([inc.changedFile]);
    expect(inc.incremental.reused).toBe(7);
    expect(inc.incremental.embeddedChunks).toBeLessThan(inc.full.chunks);
    expect(inc.ratio).toBeGreaterThan(0);
  });

  it('measures the PostgreSQL store (PGlite): ef_search chosen at build reaches recall@10 0.95, served by a fresh process', () => {
    const [pglite] = result.postgres;
    expect(result.postgres).toHaveLength(1); // no BENCH_DATABASE_URL
    expect(pglite!.dense.measuredAtBuild).toBeGreaterThanOrEqual(0.95);
    expect(pglite!.dense.efSearch).toBeGreaterThanOrEqual(50);
    expect(pglite!.bytes.postings).toBeGreaterThan(0);
    expect('error' in pglite!.serve ? pglite!.serve.error : '').toBe('');
    expect(renderMarkdown(result)).toContain('PostgreSQL (server 1)');
  });

  it('renders every section as markdown tables', () => {
    const md = renderMarkdown(result);
    for (const h of [
      '## 1.',
      '## 2.',
      '## 3.',
      '## 4.',
      '## 5.',
      '(chosen)',
      'start to first answer',
      'hybrid / dense',
    ]) {
      expect(md).toContain(h);
    }
    expect(md).toMatch(/^\| --- \|/m);
    expect(md).not.toMatch(/NaN|undefined/);
  });
});

describe('model choice', () => {
  it('falls back to the test model (and says so) when EMBED_MODEL is unset and the hub model is not cached', async () => {
    const cache = tmp();
    const choice = await chooseModel(
      { SEEDS_DIR: SEEDS, EMBED_CACHE_DIR: cache, EMBED_ALLOW_DOWNLOAD: 'false', LOG_LEVEL: 'silent' },
      () => {},
    );
    try {
      expect(choice.note).toMatch(/FALLBACK/);
      expect(choice.embedder.dim).toBe(384);
      expect(choice.config.EMBED_MODEL.startsWith(choice.temp[0]!)).toBe(true);
      expect(choice.config.INDEX_DIR.startsWith(choice.temp[0]!)).toBe(true); // never the live index
    } finally {
      for (const d of choice.temp) rmSync(d, { recursive: true, force: true });
    }
  });
});
