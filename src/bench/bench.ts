/**
 * The benchmark behind `npm run bench`: retrieval quality, query latency, index build speed,
 * incremental re-indexing, and the product at 100,000 passages. Each section lives in its own
 * module and returns plain numbers (tests run them at small sizes); this module runs them in order
 * and renders the report.
 */
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config.js';
import { Engine } from '../engine.js';
import { buildSettings } from '../index/settings.js';
import { readQuestions, type EvalItem } from '../retrieval/evaluate.js';
import type { SearchMode } from '../retrieval/search.js';
import { fullBuild, incrementalSection, type BuildResult, type IncrementalResult } from './builds.js';
import {
  chooseModel,
  f,
  machineInfo,
  ms,
  pct,
  secs,
  stderrLogger,
  table,
  type Logger,
  type MachineInfo,
} from './common.js';
import { qualitySection, type ModeQuality } from './quality.js';
import { queryPathSection, type QueryPathResult } from './queryPath.js';
import { readingSection, renderReading, type ReadingResult } from './reading.js';
import { renderScale, scaleSection, type ScaleOptions, type ScaleResult } from './scale.js';
import { postgresSection, renderPostgres, type PostgresResult } from './postgres.js';

export { stderrLogger } from './common.js';

// ---------------------------------------------------------------- the whole run

export interface BenchSizes {
  scale: Omit<ScaleOptions, 'tempDir' | 'exactSearchMax'> & { exactSearchMax?: number };
  latencyQueries: number;
  incrementalDocs: number;
}

export const SIZES: Record<'full' | 'quick', BenchSizes> = {
  // 1,000 documents × 100 paragraphs = 100,000 passages, the size of a real collection.
  full: {
    scale: { documents: 1000, paragraphs: 100, questions: 200, efSearch: [50, 100, 200, 400, 800] },
    latencyQueries: 200,
    incrementalDocs: 40,
  },
  // HNSW from 500 passages on, so the quick run goes through the same code paths.
  quick: {
    scale: { documents: 40, paragraphs: 50, questions: 50, efSearch: [50, 100, 200], exactSearchMax: 500 },
    latencyQueries: 50,
    incrementalDocs: 12,
  },
};

/** Sizes of the reading section (6): the 300-page PDF, and documents of about 1 MB. */
export const READING_SIZES = {
  full: { pdfPages: 300, paragraphs: 2000, repeats: 3 },
  quick: { pdfPages: 30, paragraphs: 200, repeats: 1 },
};

export interface BenchResult {
  machine: MachineInfo;
  model: { id: string; dim: number; note: string; dtype: string; batch: number };
  config: Pick<
    Config,
    | 'HNSW_M'
    | 'HNSW_EF_CONSTRUCTION'
    | 'HNSW_EF_SEARCH'
    | 'EXACT_SEARCH_MAX'
    | 'TOP_K'
    | 'DENSE_THRESHOLD'
    | 'LEXICAL_THRESHOLD'
    | 'SEEDS_DIR'
  >;
  sizes: BenchSizes;
  quick: boolean;
  qa: { file: string; questions: number; answerable: number } | { file: string; missing: true };
  quality?: ModeQuality[];
  queryPath: QueryPathResult;
  builds: BuildResult[];
  scale: ScaleResult;
  incremental: IncrementalResult;
  postgres: PostgresResult[];
  reading?: ReadingResult;
  wallMs: number;
  /** 1-minute load average at the end of the run. */
  loadAfter: number;
}

export async function runBench(
  opts: { quick: boolean; qaFile: string; env?: NodeJS.ProcessEnv; sizes?: BenchSizes },
  log: Logger = stderrLogger,
): Promise<BenchResult> {
  const started = performance.now();
  const sizes = opts.sizes ?? SIZES[opts.quick ? 'quick' : 'full'];
  const machine = machineInfo();
  const choice = await chooseModel(opts.env ?? process.env, log);
  const { config, embedder } = choice;
  const tempDir = choice.temp[0]!;
  try {
    const settings = buildSettings(config);
    log(`model ${embedder.modelId} (dimension ${embedder.dim}); temp dir ${tempDir}`);

    // 3a. Full build of the configured documents; the Engine below then opens it without rebuilding.
    log(`build: full index of ${config.SEEDS_DIR}`);
    const seedsBuild = await fullBuild(
      settings,
      config.SEEDS_DIR,
      config.INDEX_DIR,
      embedder,
      `${path.basename(path.resolve(config.SEEDS_DIR))}/ (the documents folder)`,
    );
    const engine = await Engine.open(config);

    // 1. Quality.
    const qaPath = path.resolve(opts.qaFile);
    let items: EvalItem[] | undefined;
    if (existsSync(qaPath)) {
      items = readQuestions(qaPath);
    } else {
      log(`quality: ${qaPath} not found, skipping the quality section`);
    }
    const quality = items ? await qualitySection(engine, items, log) : undefined;

    // 2. Query path (the question set, or generic questions when there is none).
    const questions = items?.map((i) => i.q) ?? [
      'What happened in 1988?',
      'Who issued the statement?',
      'Where is the railway?',
    ];
    const queryPath = await queryPathSection(engine, questions, sizes.latencyQueries, log);

    // 5. (and 3b) Incremental re-index on a larger corpus.
    const incremental = await incrementalSection(
      settings,
      embedder,
      config.SEEDS_DIR,
      tempDir,
      sizes.incrementalDocs,
      log,
    );

    // 6. Reading documents of each format.
    const reading = await readingSection(config.SEEDS_DIR, READING_SIZES[opts.quick ? 'quick' : 'full'], log);

    // 4. The product at 100,000 passages (last: it takes most of the time).
    const scale = await scaleSection(
      config,
      embedder,
      { ...sizes.scale, exactSearchMax: sizes.scale.exactSearchMax ?? config.EXACT_SEARCH_MAX, tempDir },
      log,
    );

    // 6. The same collection in PostgreSQL, beside the file store's figures above.
    const postgres = await postgresSection(
      config,
      embedder,
      { ...sizes.scale, exactSearchMax: sizes.scale.exactSearchMax ?? config.EXACT_SEARCH_MAX, tempDir },
      log,
    );

    return {
      machine,
      model: {
        id: embedder.modelId,
        dim: embedder.dim,
        note: choice.note,
        dtype: config.EMBED_DTYPE,
        batch: config.EMBED_BATCH,
      },
      config: {
        HNSW_M: config.HNSW_M,
        HNSW_EF_CONSTRUCTION: config.HNSW_EF_CONSTRUCTION,
        HNSW_EF_SEARCH: config.HNSW_EF_SEARCH,
        EXACT_SEARCH_MAX: config.EXACT_SEARCH_MAX,
        TOP_K: config.TOP_K,
        DENSE_THRESHOLD: config.DENSE_THRESHOLD,
        LEXICAL_THRESHOLD: config.LEXICAL_THRESHOLD,
        SEEDS_DIR: config.SEEDS_DIR,
      },
      sizes,
      quick: opts.quick,
      qa: items
        ? { file: opts.qaFile, questions: items.length, answerable: items.filter((i) => i.gold.length > 0).length }
        : { file: opts.qaFile, missing: true },
      quality,
      queryPath,
      builds: [seedsBuild.result, incremental.full],
      scale,
      incremental,
      postgres,
      reading,
      wallMs: performance.now() - started,
      loadAfter: os.loadavg()[0] ?? NaN,
    };
  } finally {
    for (const d of choice.temp) rmSync(d, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- markdown

export function renderMarkdown(r: BenchResult): string {
  const out: string[] = [];
  out.push(`# Cite benchmark${r.quick ? ' (--quick: small sizes, smoke test only)' : ''}`, '');
  out.push(
    table(
      ['', ''],
      [
        ['date', r.machine.date],
        ['CPU', `${r.machine.cpu} (${r.machine.cores} cores)`],
        ['RAM', `${r.machine.ramGb.toFixed(1)} GiB`],
        ['Node', r.machine.node],
        ['OS', r.machine.os],
        ['model', `\`${r.model.id}\` (dimension ${r.model.dim}, dtype ${r.model.dtype}, batch ${r.model.batch})`],
        ['model source', r.model.note],
        [
          'HNSW',
          `M=${r.config.HNSW_M}, efConstruction=${r.config.HNSW_EF_CONSTRUCTION}, efSearch ${r.config.HNSW_EF_SEARCH ?? 'measured at build'}; exact search up to ${r.config.EXACT_SEARCH_MAX} passages`,
        ],
        [
          'thresholds',
          `dense ${r.config.DENSE_THRESHOLD ?? 'calibrated at index time'}, lexical ${r.config.LEXICAL_THRESHOLD}, TOP_K ${r.config.TOP_K}`,
        ],
        ['bench wall time', secs(r.wallMs)],
        [
          'load average (1 min) at start / end',
          `${f(r.machine.load1, 2)} / ${f(r.loadAfter, 2)} (the bench is mostly single-threaded; well above 1 means other work shared the CPU)`,
        ],
      ],
    ),
    '',
  );

  // 1.
  out.push('## 1. Retrieval quality', '');
  if (!r.quality || 'missing' in r.qa) {
    out.push(`_Skipped: question set \`${r.qa.file}\` not found (pass \`--qa <file>\`)._`, '');
  } else {
    out.push(
      `Question set \`${r.qa.file}\`: ${r.qa.questions} questions, ${r.qa.answerable} answerable, ` +
        `${r.qa.questions - r.qa.answerable} unanswerable. \`Engine.ask(q, 10, mode)\`, scored by \`score()\`.`,
      '',
    );
    const rows: (string | number)[][] = [];
    for (const q of r.quality) {
      for (const [group, m] of Object.entries(q.report.groups)) {
        rows.push([
          q.mode,
          group,
          m.questions,
          pct(m.recall1),
          pct(m.recall5),
          f(m.mrr),
          group === 'all' ? pct(q.report.declined) : '',
          group === 'all' ? pct(q.report.wronglyDeclined) : '',
          group === 'all' ? pct(q.declineAccuracy) : '',
        ]);
      }
    }
    out.push(
      table(
        [
          'mode',
          'group',
          'n',
          'recall@1',
          'recall@5',
          'MRR',
          'unanswerable declined',
          'answerable wrongly declined',
          'decline accuracy',
        ],
        rows,
      ),
      '',
    );
    const mrr = (mode: SearchMode) => r.quality!.find((q) => q.mode === mode)?.report.groups.all?.mrr ?? NaN;
    out.push(
      table(
        ['MRR ratio', 'value'],
        [
          ['hybrid / dense', f(mrr('hybrid') / mrr('dense'), 2)],
          ['hybrid / lexical (BM25)', f(mrr('hybrid') / mrr('lexical'), 2)],
        ],
      ),
      '',
      `_${r.qa.questions} questions: one question moves recall by ${pct(1 / Math.max(1, r.qa.answerable))}; differences of a few points are noise._`,
      '',
    );
  }

  // 2.
  const qp = r.queryPath;
  out.push('## 2. Query path (question → reply text)', '');
  out.push(
    `${qp.queries} queries (the question set cycled, after one untimed warm-up pass): \`engine.ask(q, 10)\` + \`renderHtmlBlocks\` + \`packMessages\`, ` +
      `one at a time. Embedding = time inside the embedder (query, plus sentences compared by meaning when no word matches). ` +
      `${qp.answered} of ${qp.queries} answered, ${qp.messages} messages.`,
    '',
    table(
      ['part', 'p50 ms', 'p95 ms', 'mean ms'],
      [
        ['total', ms(qp.total.p50), ms(qp.total.p95), ms(qp.total.mean)],
        ['embedding', ms(qp.embed.p50), ms(qp.embed.p95), ms(qp.embed.mean)],
        ['rest (HNSW, BM25, fusion, reply)', ms(qp.rest.p50), ms(qp.rest.p95), ms(qp.rest.mean)],
      ],
    ),
    '',
    `Embedding share of query time: ${pct(qp.embedShare)}.`,
    '',
  );

  // 3.
  out.push('## 3. Index build (full build into an empty temp index folder)', '');
  out.push(
    table(
      ['corpus', 'documents', 'chunks', 'total', 'chunks/s', 'embedding', 'embedding share', 'everything else'],
      r.builds.map((b) => [
        b.label,
        b.documents,
        b.chunks,
        secs(b.totalMs),
        b.chunksPerSecond.toFixed(1),
        secs(b.embedMs),
        pct(b.embedShare),
        secs(b.totalMs - b.embedMs),
      ]),
    ),
    '',
    '_Everything else = reading and chunking documents, building HNSW, writing and checksumming the files._',
    '',
  );

  // 4.
  out.push(`## 4. Scale: the product at ${r.scale.chunks.toLocaleString('en-US')} passages`, '', renderScale(r.scale));

  // 7. (after 5 in the report, measured after 4)
  const postgresReport = `## 7. PostgreSQL: the same ${r.postgres[0]!.chunks.toLocaleString('en-US')} passages\n\n${renderPostgres(r.postgres, r.scale)}\n`;

  // 5.
  const inc = r.incremental;
  out.push('## 5. Incremental re-index', '');
  out.push(
    `The documents folder copied to a temp folder plus generated documents (its vocabulary, deterministic) to ${inc.documents} documents; ` +
      `full build, an unchanged rebuild, then one paragraph appended to \`${inc.changedFile}\` and rebuilt.`,
    '',
    table(
      ['build', 'documents re-embedded', 'chunks embedded', 'time', 'vs full build'],
      [
        ['full (empty index)', inc.full.documents, inc.full.chunks, secs(inc.full.totalMs), '1.00'],
        [
          'nothing changed',
          inc.unchanged.embedded.length ? inc.unchanged.embedded.join(', ') : '0 (none)',
          0,
          secs(inc.unchanged.totalMs),
          f(inc.unchanged.totalMs / inc.full.totalMs, 2),
        ],
        [
          `one document changed`,
          `${inc.incremental.embedded.length} (${inc.incremental.embedded.join(', ')}); ${inc.incremental.reused} reused`,
          inc.incremental.embeddedChunks,
          secs(inc.incremental.totalMs),
          f(inc.ratio, 2),
        ],
      ],
    ),
    '',
    '_A rebuild reads only files whose size or time changed, embeds only new or changed documents, and updates the lexical and vector indexes in place of their labels; unchanged files are hard links._',
    '',
  );
  if (r.reading) out.push('## 6. Reading documents (per format)', '', renderReading(r.reading));
  out.push(postgresReport);
  return out.join('\n');
}

/**
 * Only the scale section's collection in both stores (`npm run bench -- --only postgres [--quick]
 * [--documents N]`): the file store's figures (section 4) and PostgreSQL's, side by side in one run.
 */
export async function postgresOnly(
  quick: boolean,
  documents?: number,
  withFiles = true,
  log: Logger = stderrLogger,
): Promise<string> {
  const base = SIZES[quick ? 'quick' : 'full'].scale;
  const sizes = { ...base, documents: documents ?? base.documents };
  const choice = await chooseModel(process.env, log);
  try {
    const { config, embedder } = choice;
    const options = {
      ...sizes,
      exactSearchMax: sizes.exactSearchMax ?? config.EXACT_SEARCH_MAX,
      tempDir: choice.temp[0]!,
    };
    const files = withFiles ? await scaleSection(config, embedder, options, log) : undefined;
    const result = await postgresSection(config, embedder, options, log);
    return `## PostgreSQL beside the file store: ${result[0]!.chunks.toLocaleString('en-US')} passages (model: ${choice.note})\n\n${renderPostgres(result, files)}`;
  } finally {
    if (!process.env.BENCH_KEEP) for (const d of choice.temp) rmSync(d, { recursive: true, force: true });
  }
}
