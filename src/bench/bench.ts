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
  type ModelChoice,
  type Percentiles,
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

const SIZES: Record<'full' | 'quick', BenchSizes> = {
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

interface BenchOptions {
  quick: boolean;
  qaFile: string;
  env?: NodeJS.ProcessEnv;
  sizes?: BenchSizes;
}

export async function runBench(opts: BenchOptions, log: Logger = stderrLogger): Promise<BenchResult> {
  const started = performance.now();
  const sizes = opts.sizes ?? SIZES[opts.quick ? 'quick' : 'full'];
  const machine = machineInfo();
  const choice = await chooseModel(opts.env ?? process.env, log);
  const { config, embedder } = choice;
  try {
    log(`model ${embedder.modelId} (dimension ${embedder.dim}); temp dir ${choice.temp[0]!}`);
    const { items, ...sections } = await runSections(choice, opts, sizes, log);
    return {
      machine,
      model: {
        id: embedder.modelId,
        dim: embedder.dim,
        note: choice.note,
        dtype: config.EMBED_DTYPE,
        batch: config.EMBED_BATCH,
      },
      config: shownConfig(config),
      sizes,
      quick: opts.quick,
      qa: items
        ? { file: opts.qaFile, questions: items.length, answerable: items.filter((i) => i.gold.length > 0).length }
        : { file: opts.qaFile, missing: true },
      ...sections,
      wallMs: performance.now() - started,
      loadAfter: os.loadavg()[0] ?? NaN,
    };
  } finally {
    for (const d of choice.temp) rmSync(d, { recursive: true, force: true });
  }
}

/** The settings the figures depend on, for the report's head. */
const shownConfig = (config: Config): BenchResult['config'] => ({
  HNSW_M: config.HNSW_M,
  HNSW_EF_CONSTRUCTION: config.HNSW_EF_CONSTRUCTION,
  HNSW_EF_SEARCH: config.HNSW_EF_SEARCH,
  EXACT_SEARCH_MAX: config.EXACT_SEARCH_MAX,
  TOP_K: config.TOP_K,
  DENSE_THRESHOLD: config.DENSE_THRESHOLD,
  LEXICAL_THRESHOLD: config.LEXICAL_THRESHOLD,
  SEEDS_DIR: config.SEEDS_DIR,
});

/** Asked when there is no question set: the query path is still timed. */
const GENERIC_QUESTIONS = ['What happened in 1988?', 'Who issued the statement?', 'Where is the railway?'];

/** The sections in the order they run (the longest, at scale, last); numbered as in the report. */
async function runSections(choice: ModelChoice, opts: BenchOptions, sizes: BenchSizes, log: Logger) {
  const { config, embedder } = choice;
  const tempDir = choice.temp[0]!;
  const settings = buildSettings(config);
  // 3a. Full build of the configured documents; the Engine below then opens it without rebuilding.
  log(`build: full index of ${config.SEEDS_DIR}`);
  const label = `${path.basename(path.resolve(config.SEEDS_DIR))}/ (the documents folder)`;
  const seedsBuild = await fullBuild(settings, config.SEEDS_DIR, config.INDEX_DIR, embedder, label);
  const engine = await Engine.open(config);
  // 1. Quality, and 2. the query path (the question set, or generic questions when there is none).
  const items = questionSet(opts.qaFile, log);
  const quality = items ? await qualitySection(engine, items, log) : undefined;
  const questions = items?.map((i) => i.q) ?? GENERIC_QUESTIONS;
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
  // 4. The product at 100,000 passages, then 7. the same collection in PostgreSQL, beside it.
  const scaleOptions = {
    ...sizes.scale,
    exactSearchMax: sizes.scale.exactSearchMax ?? config.EXACT_SEARCH_MAX,
    tempDir,
  };
  const scale = await scaleSection(config, embedder, scaleOptions, log);
  const postgres = await postgresSection(config, embedder, scaleOptions, log);
  const builds = [seedsBuild.result, incremental.full];
  return { items, quality, queryPath, builds, scale, incremental, postgres, reading };
}

/** The question set at `qaFile`, or undefined (the quality section skipped) when there is none. */
function questionSet(qaFile: string, log: Logger): EvalItem[] | undefined {
  const qaPath = path.resolve(qaFile);
  if (existsSync(qaPath)) return readQuestions(qaPath);
  log(`quality: ${qaPath} not found, skipping the quality section`);
  return undefined;
}

// ---------------------------------------------------------------- markdown

/**
 * The report, section by section in the order read (7 after 6, though measured after 4); each
 * section renderer gives its lines, the empty ones between paragraphs and tables included.
 */
export function renderMarkdown(r: BenchResult): string {
  return [
    ...headerLines(r),
    ...qualityLines(r),
    ...queryPathLines(r.queryPath),
    ...buildLines(r.builds),
    `## 4. Scale: the product at ${r.scale.chunks.toLocaleString('en-US')} passages`,
    '',
    renderScale(r.scale),
    ...incrementalLines(r.incremental),
    ...(r.reading ? ['## 6. Reading documents (per format)', '', renderReading(r.reading)] : []),
    `## 7. PostgreSQL: the same ${r.postgres[0]!.chunks.toLocaleString('en-US')} passages`,
    '',
    renderPostgres(r.postgres, r.scale),
    '',
  ].join('\n');
}

/** The title, the machine, the model and the settings the figures depend on. */
function headerLines(r: BenchResult): string[] {
  const { machine: m, model, config: c } = r;
  const settings: string[][] = [
    ['date', m.date],
    ['CPU', `${m.cpu} (${m.cores} cores)`],
    ['RAM', `${m.ramGb.toFixed(1)} GiB`],
    ['Node', m.node],
    ['OS', m.os],
    ['model', `\`${model.id}\` (dimension ${model.dim}, dtype ${model.dtype}, batch ${model.batch})`],
    ['model source', model.note],
    [
      'HNSW',
      `M=${c.HNSW_M}, efConstruction=${c.HNSW_EF_CONSTRUCTION}, efSearch ${c.HNSW_EF_SEARCH ?? 'measured at build'}; exact search up to ${c.EXACT_SEARCH_MAX} passages`,
    ],
    [
      'thresholds',
      `dense ${c.DENSE_THRESHOLD ?? 'calibrated at index time'}, lexical ${c.LEXICAL_THRESHOLD}, TOP_K ${c.TOP_K}`,
    ],
    ['hnswlib-node build', m.hnswlib],
    ['bench wall time', secs(r.wallMs)],
    [
      'load average (1 min) at start / end',
      `${f(m.load1, 2)} / ${f(r.loadAfter, 2)} (the bench is mostly single-threaded; well above 1 means other work shared the CPU)`,
    ],
  ];
  return [
    `# Cite benchmark${r.quick ? ' (--quick: small sizes, smoke test only)' : ''}`,
    '',
    table(['', ''], settings),
    '',
  ];
}

function qualityLines({ qa, quality }: BenchResult): string[] {
  const heading = ['## 1. Retrieval quality', ''];
  if (!quality || 'missing' in qa)
    return [...heading, `_Skipped: question set \`${qa.file}\` not found (pass \`--qa <file>\`)._`, ''];
  return [
    ...heading,
    `Question set \`${qa.file}\`: ${qa.questions} questions, ${qa.answerable} answerable, ` +
      `${qa.questions - qa.answerable} unanswerable. \`Engine.ask(q, 10, mode)\`, scored by \`score()\`.`,
    '',
    qualityTable(quality),
    '',
    mrrRatioTable(quality),
    '',
    `_${qa.questions} questions: one question moves recall by ${pct(1 / Math.max(1, qa.answerable))}; differences of a few points are noise._`,
    '',
  ];
}

const QUALITY_COLUMNS = [
  'mode',
  'group',
  'n',
  'recall@1',
  'recall@5',
  'MRR',
  'unanswerable declined',
  'answerable wrongly declined',
  'decline accuracy',
];

/** One row per mode and language group; the decline figures on each mode's "all" row. */
function qualityTable(quality: ModeQuality[]): string {
  const rows = quality.flatMap((q) =>
    Object.entries(q.report.groups).map(([group, m]) => {
      const onAllRow = (x: string) => (group === 'all' ? x : '');
      return [
        q.mode,
        group,
        m.questions,
        pct(m.recall1),
        pct(m.recall5),
        f(m.mrr),
        onAllRow(pct(q.report.declined)),
        onAllRow(pct(q.report.wronglyDeclined)),
        onAllRow(pct(q.declineAccuracy)),
      ];
    }),
  );
  return table(QUALITY_COLUMNS, rows);
}

function mrrRatioTable(quality: ModeQuality[]): string {
  const mrr = (mode: SearchMode) => quality.find((q) => q.mode === mode)?.report.groups.all?.mrr ?? NaN;
  return table(
    ['MRR ratio', 'value'],
    [
      ['hybrid / dense', f(mrr('hybrid') / mrr('dense'), 2)],
      ['hybrid / lexical (BM25)', f(mrr('hybrid') / mrr('lexical'), 2)],
    ],
  );
}

function queryPathLines(qp: QueryPathResult): string[] {
  const row = (part: string, p: Percentiles) => [part, ms(p.p50), ms(p.p95), ms(p.mean)];
  return [
    '## 2. Query path (question → reply text)',
    '',
    `${qp.queries} queries (the question set cycled, after one untimed warm-up pass): \`engine.ask(q, 10)\` + \`renderHtmlBlocks\` + \`packMessages\`, ` +
      `one at a time. Embedding = time inside the embedder (query, plus sentences compared by meaning when no word matches). ` +
      `${qp.answered} of ${qp.queries} answered, ${qp.messages} messages.`,
    '',
    table(
      ['part', 'p50 ms', 'p95 ms', 'mean ms'],
      [row('total', qp.total), row('embedding', qp.embed), row('rest (HNSW, BM25, fusion, reply)', qp.rest)],
    ),
    '',
    `Embedding share of query time: ${pct(qp.embedShare)}.`,
    '',
  ];
}

function buildLines(builds: BuildResult[]): string[] {
  return [
    '## 3. Index build (full build into an empty temp index folder)',
    '',
    table(
      ['corpus', 'documents', 'chunks', 'total', 'chunks/s', 'embedding', 'embedding share', 'everything else'],
      builds.map((b) => [
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
  ];
}

function incrementalLines(inc: IncrementalResult): string[] {
  const { full, unchanged, incremental: changed } = inc;
  return [
    '## 5. Incremental re-index',
    '',
    `The documents folder copied to a temp folder plus generated documents (its vocabulary, deterministic) to ${inc.documents} documents; ` +
      `full build, an unchanged rebuild, then one paragraph appended to \`${inc.changedFile}\` and rebuilt.`,
    '',
    table(
      ['build', 'documents re-embedded', 'chunks embedded', 'time', 'vs full build'],
      [
        ['full (empty index)', full.documents, full.chunks, secs(full.totalMs), '1.00'],
        [
          'nothing changed',
          unchanged.embedded.length ? unchanged.embedded.join(', ') : '0 (none)',
          0,
          secs(unchanged.totalMs),
          f(unchanged.totalMs / full.totalMs, 2),
        ],
        [
          `one document changed`,
          `${changed.embedded.length} (${changed.embedded.join(', ')}); ${changed.reused} reused`,
          changed.embeddedChunks,
          secs(changed.totalMs),
          f(inc.ratio, 2),
        ],
      ],
    ),
    '',
    '_A rebuild reads only files whose size or time changed, embeds only new or changed documents, and updates the lexical and vector indexes in place of their labels; unchanged files are hard links._',
    '',
  ];
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
