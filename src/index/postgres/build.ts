import { log } from '../../log.js';
import type { Chunk } from '../../chunks/chunk.js';
import { fromVector, inTransaction, toVector, withoutTimeout, type Db } from '../../db/pool.js';
import { documentNames } from '../examples.js';
import { measureGates } from '../calibration.js';
import type { Embedder } from '../../vectors/embedder.js';
import {
  describePlan,
  embedFresh,
  fullEmbeddingKey,
  noDocuments,
  type BuildProgress,
  type BuildSettings,
  type BuildSummary,
} from '../build.js';
import { draft, RETUNE_AT, sampleLabels, searchSettingsChanged } from '../buildParts.js';
import { planChanges, type Plan } from '../changes.js';
import type { LexicalChunk } from '../lexical.js';
import { IndexError } from '../layout.js';
import { databaseGeneration } from '../generation.js';
import type { Manifest, ManifestDocument } from '../manifest.js';
import type { KnownVectors } from '../reusedPassages.js';
import type { LexicalTotals } from './lexical.js';
import { lockBuilds, type BuildLock } from './lock.js';
import {
  dropOldPostings,
  forgetPostings,
  insertPostings,
  retireAllPostings,
  retirePostings,
  updateTerms,
} from './postings.js';
import { GENERATION_CHANNEL, liveGeneration, PgDense, VISIBLE, type SearchOptions } from './reader.js';
import { ensurePassages, migrate, withoutVectorIndex, type GraphParams } from './schema.js';
import { tuneEfSearch } from './tuning.js';

/** Rows per INSERT: large enough for few round trips, small enough for modest statements. */
const BATCH = 500;
/** New passage texts looked up per query among the changed documents' old rows (~6 MB of text). */
const LOOKUP_BATCH = 10_000;

/**
 * Builds or updates the index in PostgreSQL with the file store's rules: only new or changed
 * documents are chunked and embedded; unchanged passages keep their rows. The build is a new
 * generation: its rows are invisible to readers (they read the live generation) until one
 * transaction switches `cite_live` to it; the rows only the old generation used are deleted by the
 * next build (see dropOld).
 */
export async function buildInPostgres(
  db: Db,
  settings: Omit<BuildSettings, 'indexDir'>,
  search: SearchOptions,
  embedder: Embedder,
  onProgress: (p: BuildProgress) => void = () => {},
): Promise<BuildSummary> {
  await migrate(db);
  const lock = await lockBuilds(db);
  try {
    await removeAbandonedBuilds(db);
    return await build(db, settings, search, embedder, onProgress, lock);
  } finally {
    await lock.release();
  }
}

/** Rows of builds that never switched (the process died): nobody reads them, the lock says nobody writes them. */
async function removeAbandonedBuilds(db: Db): Promise<void> {
  const abandoned = (
    await db.query<{ id: string }>(`SELECT id FROM cite_generations WHERE state = 'building'`)
  ).rows.map((r) => Number(r.id));
  for (const generation of abandoned) await forget(db, generation);
}

/** Removes what a generation added and brings back what it removed; never the live one's (a switch whose reply was lost may have committed). */
async function forget(db: Db, generation: number): Promise<void> {
  if ((await liveGeneration(db)) === generation) return;
  if (await db.query(`SELECT to_regclass('cite_passages') IS NOT NULL AS ok`).then((r) => r.rows[0].ok)) {
    await db.query('DELETE FROM cite_passages WHERE born = $1', [generation]);
    await db.query('UPDATE cite_passages SET died = NULL WHERE died = $1', [generation]);
  }
  await forgetPostings(db, generation);
  await db.query('DELETE FROM cite_generations WHERE id = $1', [generation]);
}

interface Live {
  generation: number;
  manifest: Manifest;
  /** Undefined for a generation of schema 2, whose postings were one blob: this build writes them all as rows. */
  lexical: LexicalTotals | undefined;
}

async function reusableLive(db: Db, embedder: Embedder, key: string): Promise<{ live?: number; previous?: Live }> {
  const live = await liveGeneration(db);
  if (live === undefined) return {};
  const row = (
    await db.query<{ manifest: Manifest; lexical_totals: LexicalTotals | null }>(
      'SELECT manifest, lexical_totals FROM cite_generations WHERE id = $1',
      [live],
    )
  ).rows[0]!;
  const m = row.manifest;
  const fits = m.modelIdentity === embedder.identity && m.dim === embedder.dim && m.embeddingKey === key;
  return {
    live,
    previous: fits ? { generation: live, manifest: m, lexical: row.lexical_totals ?? undefined } : undefined,
  };
}

async function build(
  db: Db,
  settings: Omit<BuildSettings, 'indexDir'>,
  search: SearchOptions,
  embedder: Embedder,
  onProgress: (p: BuildProgress) => void,
  lock: BuildLock,
): Promise<BuildSummary> {
  const started = performance.now();
  const key = fullEmbeddingKey({ ...settings, indexDir: '' });
  const { live, previous } = await reusableLive(db, embedder, key);
  const plan = await planChanges(settings.seedsDir, settings.reading, previous?.manifest);
  const { documentCount, summary: describe } = describePlan(plan, started);
  onProgress({ stage: 'documents', documents: documentCount, skipped: plan.skipped.length });
  if (documentCount === 0) throw noDocuments(settings.seedsDir);
  const summary = (generation: number, chunks: number, extra: Partial<BuildSummary>) =>
    describe(databaseGeneration(generation), chunks, extra);
  // Unchanged documents under other graph settings (HNSW_M, HNSW_EF_CONSTRUCTION, EXACT_SEARCH_MAX): a new generation of the same rows, the graph rebuilt.
  if (previous && plan.unchanged && !searchSettingsChanged(previous.manifest, settings)) {
    const { chunkCount, calibration } = previous.manifest;
    return summary(previous.generation, chunkCount, { upToDate: true, calibration });
  }

  const fresh = await embedFresh(plan, embedder, onProgress, (texts) => liveVectors(db, previous, plan.removed, texts));
  const input: GenerationInput = { settings, search, embedder, key, plan, fresh, previous };
  await ensurePassages(db, embedder.dim, graphOf(settings));
  const generation = await newGeneration(db);
  let built: { manifest: Manifest; bulk: boolean };
  try {
    const { manifest: draft, lexical, bulk } = await fillGeneration(db, generation, input, onProgress);
    const manifest: Manifest = {
      ...draft,
      builtAt: new Date().toISOString(),
      buildMs: Math.round(performance.now() - started),
      checksums: {},
    };
    lock.check(); // still alone: no other build can have started and removed this one's rows
    await publish(db, { generation, manifest, lexical }, live);
    built = { manifest, bulk };
  } catch (err) {
    await forget(db, generation).catch(() => {}); // best effort: the next build removes it otherwise
    throw err;
  }
  // The generation is live from here: a failed tidy-up must not be undone by `forget` (it would delete
  // the live rows). What it leaves, the next build's drops (rows died at or before its live one).
  await tidyUp(db, live, built.bulk).catch((err: unknown) =>
    log.warn({ err }, 'index: removing the previous generation’s rows failed; the next build removes them'),
  );
  const { chunkCount, calibration } = built.manifest;
  return summary(generation, chunkCount, {
    embeddedChunks: fresh.embedded,
    embedMs: fresh.embedMs,
    rebuilt: !previous,
    calibration,
  });
}

/**
 * The live generation's vectors of `documents` (changed or gone) whose text is one of `texts`: a
 * changed document embeds only its new passages (as the file store does, reusedPassages.ts).
 */
async function liveVectors(
  db: Db,
  previous: Live | undefined,
  documents: ManifestDocument[],
  texts: ReadonlySet<string>,
): Promise<KnownVectors> {
  const known = new Map<string, Float32Array>();
  if (!previous || documents.length === 0) return known;
  const wanted = [...texts];
  // In batches: a large update's texts are not one parameter of hundreds of MB.
  for (let at = 0; at < wanted.length; at += LOOKUP_BATCH) {
    const { rows } = await db.query<{ text: string; embedding: string }>(
      `SELECT chunk->>'text' AS text, embedding::text AS embedding
       FROM cite_passages JOIN unnest($2::int[], $3::int[]) AS d (first, count) ON label >= first AND label < first + count
       WHERE ${VISIBLE} AND chunk->>'text' = ANY($4::text[])`,
      [
        previous.generation,
        documents.map((d) => d.firstLabel),
        documents.map((d) => d.chunks),
        wanted.slice(at, at + LOOKUP_BATCH),
      ],
    );
    for (const r of rows) known.set(r.text, fromVector(r.embedding));
  }
  return known;
}

/** Records the generation's manifest and switches readers to it. */
async function publish(
  db: Db,
  built: { generation: number; manifest: Manifest; lexical: LexicalTotals },
  live: number | undefined,
): Promise<void> {
  const { generation, manifest, lexical } = built;
  await db.query('UPDATE cite_generations SET manifest = $2, lexical_totals = $3 WHERE id = $1', [
    generation,
    JSON.stringify(manifest),
    JSON.stringify(lexical),
  ]);
  await switchTo(db, generation, live);
}

/** Drops what only the generation before the live one used; after a large load, vacuums. */
async function tidyUp(db: Db, previous: number | undefined, bulk: boolean): Promise<void> {
  await dropOld(db, previous);
  // After a large load: the visibility map that lets postings be read from their index alone, and fresh statistics.
  if (bulk)
    await withoutTimeout(db, (client) => client.query('VACUUM (ANALYZE) cite_postings, cite_terms, cite_passages'));
}

/** What a generation is made from: the plan, the passages and vectors just embedded, the live generation reused. */
interface GenerationInput {
  settings: Omit<BuildSettings, 'indexDir'>;
  search: SearchOptions;
  embedder: Embedder;
  key: string;
  plan: Plan;
  fresh: { chunks: Chunk[][]; vectors: Float32Array[] };
  previous: Live | undefined;
}

const graphOf = (settings: Pick<BuildSettings, 'M' | 'efConstruction'>): GraphParams => ({
  M: settings.M,
  efConstruction: settings.efConstruction,
});

/** A new generation's id, recorded as being built (removed if the build dies, see removeAbandonedBuilds). */
async function newGeneration(db: Db): Promise<number> {
  const id = (await db.query<{ id: string }>(`SELECT nextval('cite_generation_ids') AS id`)).rows[0]!.id;
  await db.query(`INSERT INTO cite_generations (id, state) VALUES ($1, 'building')`, [Number(id)]);
  return Number(id);
}

/**
 * Writes the generation's rows (passages, postings, term counts) and measures its search: its
 * manifest without the build's times, its lexical totals, and whether it was a bulk load.
 */
async function fillGeneration(
  db: Db,
  generation: number,
  input: GenerationInput,
  onProgress: (p: BuildProgress) => void,
) {
  const { plan, fresh, previous } = input;
  const graph = graphOf(input.settings);
  const writer = new GenerationWriter(db, generation, await nextLabel(db));
  onProgress({ stage: 'writing', chunks: 0 });
  const write = () => writeDocuments(writer, plan, fresh.chunks, fresh.vectors);
  const bulk = fresh.vectors.length > (previous?.manifest.chunkCount ?? 0);
  const { documents, lexicalAdded } = bulk ? await withoutVectorIndex(db, graph, write) : await write();
  if (!previous) {
    // A new model: everything before goes.
    await db.query('UPDATE cite_passages SET died = $1 WHERE died IS NULL AND born < $1', [generation]);
    await retireAllPostings(db, generation);
  }
  const slots = writer.next;
  const lexical = await writeLexical(db, generation, lexicalAdded, writer.first, previous);
  const { hnsw, calibration } = await measureSearch(db, generation, input, documents);
  const manifest = draft(input, documents, slots, { hnsw, calibration });
  return { manifest, lexical, bulk };
}

/** The generation's ef_search (HNSW above EXACT_SEARCH_MAX) and "not covered" gates, measured on its own passages. */
async function measureSearch(
  db: Db,
  generation: number,
  { settings, search, embedder, previous }: GenerationInput,
  documents: ManifestDocument[],
) {
  const chunkCount = documents.reduce((n, d) => n + d.chunks, 0);
  const liveLabels = documents
    .slice()
    .sort((a, b) => a.firstLabel - b.firstLabel)
    .flatMap((d) => range(d.firstLabel, d.chunks));
  const hnsw =
    chunkCount > settings.exactSearchMax
      ? await tuneEfSearch(db, generation, embedder, liveLabels, graphOf(settings), previous?.manifest.hnsw)
      : null;
  const calibration = await calibrationFor(
    db,
    generation,
    embedder,
    liveLabels,
    chunkCount,
    { ...search, efSearch: search.efSearch ?? hnsw?.efSearch },
    previous?.manifest,
  );
  return { hnsw, calibration };
}

/**
 * The generation's postings and term counts: rows for the passages added, counts moved on from the
 * previous generation's. A previous generation whose postings were a blob (schema 2) gets rows for
 * all its passages, once.
 */
async function writeLexical(
  db: Db,
  generation: number,
  added: LexicalChunk[],
  since: number,
  previous: Live | undefined,
): Promise<LexicalTotals> {
  await insertPostings(db, generation, added);
  if (!previous || previous.lexical) return updateTerms(db, generation, since, previous?.lexical);
  const { rows } = await db.query<{ label: number; text: string; title: string }>(
    `SELECT label, chunk->>'text' AS text, chunk->>'title' AS title FROM cite_passages WHERE label < $2 AND ${VISIBLE}`,
    [generation, since],
  );
  await insertPostings(db, generation, rows);
  return updateTerms(db, generation, 0, undefined);
}

/** The first label never used (labels are never reused, so a reader one generation behind never reads a wrong row). */
async function nextLabel(db: Db): Promise<number> {
  return Number(
    (await db.query<{ next: number }>('SELECT coalesce(max(label) + 1, 0) AS next FROM cite_passages')).rows[0]!.next,
  );
}

/** Writes one generation's rows: new passages, copies of renamed documents' passages, removals. */
class GenerationWriter {
  /** The first label of this generation's new rows. */
  readonly first: number;

  constructor(
    private readonly db: Db,
    readonly generation: number,
    public next: number,
  ) {
    this.first = next;
  }

  async insert(chunks: Chunk[], vectors: Float32Array[]): Promise<number> {
    const first = this.next;
    for (let at = 0; at < chunks.length; at += BATCH) {
      const part = chunks.slice(at, at + BATCH);
      await this.db.query(
        `INSERT INTO cite_passages (label, born, chunk, embedding)
         SELECT label, $1, chunk, embedding::vector FROM unnest($2::int[], $3::jsonb[], $4::text[]) AS t (label, chunk, embedding)`,
        [
          this.generation,
          part.map((_, i) => first + at + i),
          part.map((c) => JSON.stringify(c)),
          vectors.slice(at, at + BATCH).map(toVector),
        ],
      );
    }
    this.next += chunks.length;
    return first;
  }

  /**
   * Copies a document's passages (vectors included, nothing embedded) under new labels, with a new
   * name and title. The source rows are the live generation's, including those this build already
   * retired: a document renamed and copied in one build is copied after its rename removed it.
   */
  async copy(from: ManifestDocument, file: string, title: string): Promise<{ first: number; chunks: Chunk[] }> {
    const first = this.next;
    const { rows } = await this.db.query<{ chunk: Chunk }>(
      `INSERT INTO cite_passages (label, born, chunk, embedding)
       SELECT label - $2 + $3, $1, chunk || jsonb_build_object('doc', $4::text, 'title', $5::text), embedding
       FROM cite_passages WHERE label >= $2 AND label < $2 + $6 AND (died IS NULL OR died = $1) ORDER BY label
       RETURNING chunk`,
      [this.generation, from.firstLabel, first, file, title, from.chunks],
    );
    this.next += from.chunks;
    return { first, chunks: rows.map((r) => r.chunk) };
  }

  async remove(d: ManifestDocument): Promise<void> {
    await this.db.query('UPDATE cite_passages SET died = $1 WHERE label >= $2 AND label < $2 + $3 AND died IS NULL', [
      this.generation,
      d.firstLabel,
      d.chunks,
    ]);
    await retirePostings(this.db, this.generation, d.firstLabel, d.chunks);
  }
}

const range = (first: number, count: number) => Array.from({ length: count }, (_, i) => first + i);
const lexicalOf = (first: number, chunks: Chunk[]): LexicalChunk[] =>
  chunks.map((c, i) => ({ label: first + i, text: c.text, title: c.title }));

async function writeDocuments(writer: GenerationWriter, plan: Plan, freshChunks: Chunk[][], vectors: Float32Array[]) {
  const documents: ManifestDocument[] = plan.kept.map((k) => k.entry);
  const lexicalAdded: LexicalChunk[] = [];
  for (const { doc, previous: old, stat } of plan.reused) {
    if (old.file === doc.file && old.title === doc.title) {
      documents.push({ ...old, hash: doc.hash, ...stat });
      continue;
    }
    // Renamed or re-titled: the old generation must keep showing the old name, so new rows.
    const { first, chunks } = await writer.copy(old, doc.file, doc.title);
    await writer.remove(old); // the previous document entry is consumed by this one
    documents.push({ ...old, file: doc.file, title: doc.title, hash: doc.hash, ...stat, firstLabel: first });
    lexicalAdded.push(...lexicalOf(first, chunks));
  }
  // A copy of a document still there: new rows with the original's chunks and vectors, nothing embedded.
  for (const { doc, previous: original, stat } of plan.copied) {
    const { first, chunks } = await writer.copy(original, doc.file, doc.title);
    documents.push({ ...original, file: doc.file, title: doc.title, hash: doc.hash, ...stat, firstLabel: first });
    lexicalAdded.push(...lexicalOf(first, chunks));
  }
  for (const d of plan.removed) {
    await writer.remove(d);
  }
  let offset = 0;
  for (const [i, doc] of plan.fresh.entries()) {
    const chunks = freshChunks[i]!;
    const first = await writer.insert(chunks, vectors.slice(offset, offset + chunks.length));
    offset += chunks.length;
    documents.push({
      file: doc.file,
      title: doc.title,
      hash: doc.hash,
      ...plan.stats.get(doc.file)!,
      firstLabel: first,
      chunks: chunks.length,
      names: documentNames(chunks.map((c) => c.text)),
    });
    lexicalAdded.push(...lexicalOf(first, chunks));
  }
  return { documents, lexicalAdded };
}

/** The "not covered" gate: measured as the file store does, again when the collection changed by more than 10 %. */
async function calibrationFor(
  db: Db,
  generation: number,
  embedder: Embedder,
  live: number[],
  chunkCount: number,
  search: SearchOptions,
  prev: Manifest | undefined,
) {
  const old = prev?.calibration;
  // Measured again when the collection changed size noticeably, or lacks the support gate (older index).
  if (old?.support && Math.abs(chunkCount - old.chunks) <= RETUNE_AT * old.chunks) return old;
  // Sampled by position among the live labels: the same passages as the file store's build of the
  // same documents (whose labels are dense), even when this table's labels start higher.
  const labels = sampleLabels(live.length, () => true).map((i) => live[i]!);
  const { rows } = await db.query<{ label: number; text: string }>(
    `SELECT label, chunk->>'text' AS text FROM cite_passages WHERE label = ANY($2::int[]) AND ${VISIBLE}`,
    [generation, labels],
  );
  const textOf = new Map(rows.map((r) => [r.label, r.text]));
  const dense = new PgDense(db, generation, chunkCount > search.exactSearchMax ? search.efSearch : undefined);
  return measureGates(
    embedder,
    dense,
    labels.map((l) => textOf.get(l)!),
    chunkCount,
  );
}

/** The switch: one UPDATE of the pointer row, only if no other build switched since this one started. */
async function switchTo(db: Db, generation: number, base: number | undefined): Promise<void> {
  await inTransaction(db, async (client) => {
    const moved = await client.query(
      'UPDATE cite_live SET generation = $1, switched_at = now() WHERE generation IS NOT DISTINCT FROM $2',
      [generation, base ?? null],
    );
    if (moved.rowCount !== 1)
      throw new IndexError('Another index build switched the database while this one ran; run it again.', 'busy');
    await client.query(
      `UPDATE cite_generations SET state = CASE WHEN id = $1 THEN 'live' ELSE 'old' END WHERE id = $1 OR state = 'live'`,
      [generation],
    );
    await client.query('SELECT pg_notify($1, $2)', [GENERATION_CHANNEL, String(generation)]); // delivered at commit
  });
}

/**
 * After the switch: the rows no reader can see any more — those that died in the previous live
 * generation or before. The rows that died in this build stay until the next one: a replica still
 * answering from the previous generation (it looks for the new one every second) finds all of its
 * passages meanwhile.
 */
async function dropOld(db: Db, previous: number | undefined): Promise<void> {
  if (previous !== undefined) {
    await db.query('DELETE FROM cite_passages WHERE died IS NOT NULL AND died <= $1', [previous]);
    await dropOldPostings(db, previous);
  }
  await db.query(`DELETE FROM cite_generations WHERE state = 'old'`);
}
