/**
 * The index in PostgreSQL (DATABASE_URL), against a real server protocol: PGlite with pgvector
 * served on 127.0.0.1 by the tests. Built and asked through the terminal commands, compared with
 * the file store; incremental builds, a build killed half-way, the schema version.
 */
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { syntheticDocument, vocabularyOf } from '../src/bench/synthetic.js';
import { buildInWorker, type Builder } from '../src/storage/builder.js';
import { Engine } from '../src/engine.js';
import { searchOptions } from '../src/index/settings.js';
import { PostgresIndex } from '../src/index/postgres/source.js';
import type { Chunk } from '../src/chunks/chunk.js';
import { loadIndex } from '../src/index/loader.js';
import { cheapestSplit, PgLexical, restBound, splitFor } from '../src/index/postgres/lexical.js';
import { PgDense } from '../src/index/postgres/reader.js';
import { SCHEMA_VERSION, SchemaError } from '../src/index/postgres/schema.js';
import { PgDeskStore } from '../src/desk/postgres.js';
import { log } from '../src/log.js';
import { writeTestModel } from '../src/vectors/testModel.js';
import { collect, runCli, startCli } from './support/cli.js';
import { zipOf } from './support/formatFixtures.js';
import { startTestPg, type TestPg } from './support/pgServer.js';
import { SEEDS, tempDirs, testConfig, testModelDir } from './support/testModel.js';

const tempDir = tempDirs('cite-pg-');
const EXPELLED = 'How many Azerbaijanis were expelled in 1948-1953?';
const QUESTIONS = [
  EXPELLED,
  'Were 5000 houses destroyed?',
  'How do I bake sourdough bread at home?',
  'Какова позиция профсоюзов?',
];

let modelDir: string;
const servers: TestPg[] = [];
async function database(): Promise<TestPg> {
  const server = await startTestPg();
  servers.push(server);
  return server;
}

beforeAll(async () => {
  modelDir = await testModelDir();
});
afterAll(async () => {
  for (const s of servers) await s.close();
});

function seedsCopy(): string {
  const dir = tempDir();
  cpSync(SEEDS, dir, { recursive: true });
  return dir;
}

/** The settings of an engine on `db` over `seeds` (INDEX_DIR unused: nothing is written there). */
const pgConfig = (db: TestPg, seeds: string) =>
  testConfig({
    EMBED_MODEL: modelDir,
    INDEX_DIR: path.join(tempDir(), 'unused'),
    SEEDS_DIR: seeds,
    DATABASE_URL: db.url,
  });

/** A paragraph added to the first document: something for a re-index to embed. */
const addWalrusParagraph = (seeds: string) =>
  appendFileSync(
    path.join(seeds, readdirSync(seeds).sort()[0]!),
    '\n\nThe walrus orchestra tuned its oboes at dawn.\n',
  );

async function count(url: string, sql: string): Promise<number> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return Number((await client.query(sql)).rows[0].n);
  } finally {
    await client.end();
  }
}

describe('DATABASE_URL', () => {
  it('npm run index and ask --jsonl answer from PostgreSQL exactly as the file store does, and nothing is written to INDEX_DIR', async () => {
    const db = await database();
    const work = tempDir();
    const indexDir = path.join(work, 'index');
    const env = {
      EMBED_MODEL: modelDir,
      SEEDS_DIR: SEEDS,
      INDEX_DIR: indexDir,
      EMBED_CACHE_DIR: path.join(work, 'cache'),
    };
    const built = await runCli('index.ts', [], { ...env, DATABASE_URL: db.url }, work);
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toMatch(/Indexed 5 documents, 87 passages/);
    expect(existsSync(indexDir)).toBe(false);
    const again = await runCli('index.ts', [], { ...env, DATABASE_URL: db.url }, work);
    expect(again.stderr).toMatch(/up to date/);

    const fromPg = await runCli(
      'ask.ts',
      ['--jsonl', '--top', '5'],
      { ...env, DATABASE_URL: db.url },
      work,
      QUESTIONS.join('\n'),
    );
    expect(fromPg.code, fromPg.stderr).toBe(0);
    expect(existsSync(indexDir)).toBe(false);
    const fromFiles = await runCli('ask.ts', ['--jsonl', '--top', '5'], env, work, QUESTIONS.join('\n'));
    expect(fromFiles.code, fromFiles.stderr).toBe(0);
    const answers = fromPg.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(answers).toHaveLength(QUESTIONS.length);
    expect(answers[0].answered).toBe(true);
    expect(answers[0].hits[0].text).toContain('1948-1953');
    expect(answers[2].answered).toBe(false);
    expect(fromPg.stdout).toBe(fromFiles.stdout);
  }, 400_000);

  it('an unreachable database is one line naming DATABASE_URL, no stack', async () => {
    const db = await database();
    await db.stop();
    const work = tempDir();
    const run = await runCli(
      'ask.ts',
      ['--json', EXPELLED],
      { EMBED_MODEL: modelDir, SEEDS_DIR: SEEDS, INDEX_DIR: path.join(work, 'i'), DATABASE_URL: db.url },
      work,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/PostgreSQL \(DATABASE_URL\) cannot be reached/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});

describe('builds in PostgreSQL', () => {
  it('embed only changed documents, switch to a new generation, and drop the old rows one build later', async () => {
    const db = await database();
    const seeds = seedsCopy();
    const config = pgConfig(db, seeds);
    const engine = await Engine.open(config);
    const before = engine.manifest;
    expect(before.chunkCount).toBe(87);
    const [first, second] = readdirSync(seeds).sort();
    appendFileSync(path.join(seeds, first!), '\n\nThe zebra quartet rehearsed in the lighthouse every Thursday.\n');
    cpSync(path.join(seeds, second!), path.join(seeds, 'moved.txt'));
    rmSync(path.join(seeds, second!));

    const summary = await engine.reindex();
    expect(summary.embedded).toEqual([first]);
    expect(summary.reused).toContain('moved.txt');
    expect(summary.renamed).toEqual([{ from: second, to: 'moved.txt' }]);
    expect(summary.removed).toEqual([]);
    // Of the changed document, only the passage that is new is embedded; the others keep their vectors.
    const firstChunks = before.documents.find((d) => d.file === first)!.chunks;
    expect(firstChunks).toBeGreaterThan(5);
    expect(summary.embeddedChunks).toBe(1);
    const kept = `SELECT count(*) AS n FROM cite_passages now JOIN cite_passages was
      ON now.chunk->>'text' = was.chunk->>'text' AND now.chunk->>'doc' = was.chunk->>'doc'
      WHERE now.died IS NULL AND was.died IS NOT NULL`;
    expect(await count(db.url, kept)).toBe(engine.manifest.documents.find((d) => d.file === first)!.chunks - 1);
    expect(await count(db.url, `${kept} AND now.embedding::text <> was.embedding::text`)).toBe(0);
    const answer = await engine.ask('zebra quartet lighthouse');
    expect(answer.answered).toBe(true);
    expect(answer.hits[0]!.doc).toBe(first);
    const moved = await engine.ask(EXPELLED, 10);
    expect(moved.hits.every((h) => h.doc !== second)).toBe(true);
    // The old generation's row is gone; its removed passages stay for one build (a replica one
    // generation behind still finds them), then go.
    expect(await count(db.url, 'SELECT count(*) AS n FROM cite_generations')).toBe(1);
    expect(await count(db.url, 'SELECT count(*) AS n FROM cite_passages WHERE died IS NULL')).toBe(
      engine.manifest.chunkCount,
    );
    const lingering = await count(db.url, 'SELECT count(*) AS n FROM cite_passages WHERE died IS NOT NULL');
    expect(lingering).toBeGreaterThan(0);
    appendFileSync(path.join(seeds, first!), '\n\nA second added paragraph about the zebra quartet.\n');
    await engine.reindex();
    expect(
      await count(
        db.url,
        `SELECT count(*) AS n FROM cite_passages WHERE died IS NOT NULL AND died < (SELECT generation FROM cite_live)`,
      ),
    ).toBe(0);
    await engine.close();
  }, 300_000);

  it("a document whose text holds a NUL or a lone surrogate (a DOCX's &#0; or &#xD800;) is stored and answered from, not a failed build", async () => {
    const db = await database();
    const seeds = seedsCopy();
    const body = (ref: string) =>
      `<w:p><w:r><w:t>The yodelling goats</w:t></w:r></w:p><w:p><w:r><w:t>Yodelling goats graze${ref} on the alpine meadows above the village.</w:t></w:r></w:p>`;
    const docx = (ref: string) =>
      zipOf(
        'word/document.xml',
        Buffer.from(
          `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body(ref)}</w:body></w:document>`,
        ),
      );
    writeFileSync(path.join(seeds, 'nul.docx'), docx('&#0;'));
    writeFileSync(path.join(seeds, 'surrogate.docx'), docx('&#xD800;'));
    writeFileSync(
      path.join(seeds, 'title.docx'),
      zipOf(
        'word/document.xml',
        Buffer.from(
          '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Goats&#0; &#xD800;alone</w:t></w:r></w:p></w:body></w:document>',
        ),
      ),
    );
    const engine = await Engine.open(pgConfig(db, seeds));
    try {
      // Its reason names the title: stored too.
      expect(engine.manifest.skipped.map((s) => [s.file, s.reason])).toEqual([
        ['title.docx', 'only a title ("Goats  \uFFFDalone"), no body text'],
      ]);
      expect(engine.manifest.documents.map((d) => d.file)).toEqual(
        expect.arrayContaining(['nul.docx', 'surrogate.docx']),
      );
      const answer = await engine.ask('Where do the yodelling goats graze?');
      expect(answer.hits[0]!.doc).toMatch(/^(nul|surrogate)\.docx$/);
    } finally {
      await engine.close();
    }
  }, 120_000);

  it('a document renamed and copied in one go: both names get their passages', async () => {
    const db = await database();
    const seeds = seedsCopy();
    const engine = await Engine.open(pgConfig(db, seeds));
    const [, second] = readdirSync(seeds).sort();
    // Moved into place under a new name, and a copy uploaded as well: the copy's source is the renamed entry.
    cpSync(path.join(seeds, second!), path.join(seeds, 'moved.txt'));
    cpSync(path.join(seeds, second!), path.join(seeds, 'copy.txt'));
    rmSync(path.join(seeds, second!));
    const summary = await engine.reindex();
    expect(summary.embedded).toEqual([]);
    const chunks = engine.manifest.documents.find((d) => d.file === second)?.chunks;
    expect(chunks).toBeUndefined();
    for (const file of ['moved.txt', 'copy.txt']) {
      const doc = engine.manifest.documents.find((d) => d.file === file)!;
      expect(doc.chunks).toBeGreaterThan(0);
      const live = await count(
        db.url,
        `SELECT count(*) AS n FROM cite_passages WHERE chunk->>'doc' = '${file}' AND died IS NULL`,
      );
      expect(live, file).toBe(doc.chunks);
    }
    await engine.close();
  }, 300_000);

  it('a replica does not switch to a generation another model built (same dimension): it keeps answering from its own', async () => {
    const db = await database();
    const env = { INDEX_DIR: path.join(tempDir(), 'unused'), SEEDS_DIR: SEEDS, DATABASE_URL: db.url };
    const replica = await Engine.open(testConfig({ ...env, EMBED_MODEL: modelDir }));
    const own = replica.manifest;
    // Another model of the same dimension (383 + the squeezed coordinate): a rolling deploy's first new replica builds with it.
    const otherModel = path.join(tempDir(), 'other-model');
    await writeTestModel(otherModel, SEEDS, { dim: 383, compress: Math.sqrt(3) });
    const warn = vi.spyOn(log, 'warn');
    const other = await Engine.open(testConfig({ ...env, EMBED_MODEL: otherModel }));
    expect(other.manifest.modelIdentity).not.toBe(own.modelIdentity);
    expect(other.manifest.dim).toBe(own.dim);
    // Within a second the replica hears of the switch: it either follows it or says why not.
    await waitFor(
      async () =>
        replica.manifest.builtAt !== own.builtAt ||
        warn.mock.calls.some((c) => /Not switching to the live index/.test(String(c[0]))),
    );
    warn.mockRestore();
    expect(replica.manifest.modelIdentity).toBe(own.modelIdentity);
    expect((await replica.ask(EXPELLED)).answered).toBe(true);
    await other.close();
    await replica.close();
  }, 300_000);

  it('a replica without the documents folder (they are where builds run) starts and answers from the live index', async () => {
    const db = await database();
    const env = { EMBED_MODEL: modelDir, INDEX_DIR: path.join(tempDir(), 'unused'), DATABASE_URL: db.url };
    const builder = await Engine.open(testConfig({ ...env, SEEDS_DIR: seedsCopy() }));
    const replica = await Engine.open(testConfig({ ...env, SEEDS_DIR: path.join(tempDir(), 'not-on-this-machine') }));
    expect(replica.manifest.builtAt).toBe(builder.manifest.builtAt);
    expect((await replica.ask(EXPELLED)).answered).toBe(true);
    await replica.close();
    await builder.close();
  }, 300_000);

  it('a build that succeeded while the database stops answering right after: reindex still reports it, the replica switches once it answers', async () => {
    const db = await database();
    const seeds = seedsCopy();
    const builder: Builder = async (config, onProgress) => {
      const summary = await buildInWorker(config, onProgress);
      await db.stop(); // gone between the switch and this replica loading the new generation
      return summary;
    };
    const engine = await Engine.open(pgConfig(db, seeds), undefined, { builder });
    const before = engine.manifest.builtAt;
    addWalrusParagraph(seeds);
    const summary = await engine.reindex();
    expect(summary.embedded).toHaveLength(1);
    // The replica may have opened the new generation before the database went away (it hears of the
    // switch at once); if not, it does once the database answers again.
    await db.restart();
    await waitFor(async () => engine.manifest.builtAt !== before);
    expect((await engine.ask('walrus orchestra oboes')).answered).toBe(true);
    await engine.close();
  }, 300_000);

  it('the database going away while a re-index writes: the admin is told the database cannot be reached, the old index answers once it is back', async () => {
    const db = await database();
    const seeds = seedsCopy();
    const builder: Builder = (config, onProgress, options) =>
      buildInWorker(
        config,
        (p) => {
          if (p.stage === 'writing') void db.stop(); // the worker is about to write the new generation's rows
          onProgress?.(p);
        },
        options,
      );
    const engine = await Engine.open(pgConfig(db, seeds), undefined, { builder });
    const before = engine.manifest.builtAt;
    addWalrusParagraph(seeds);
    const failed = await engine.reindex().catch((err: Error) => err);
    expect(failed).toBeInstanceOf(Error);
    // What the admin's "Re-index failed" reply quotes: which service is gone, not only the driver's words.
    expect((failed as Error).message).toMatch(/^PostgreSQL \(DATABASE_URL\) cannot be reached: /);
    await db.restart();
    expect(engine.manifest.builtAt).toBe(before);
    expect((await engine.ask(EXPELLED)).answered).toBe(true);
    await engine.close();
  }, 300_000);

  it('the database going away while npm run index writes: one line naming DATABASE_URL, no crash with a stack', async () => {
    const db = await database();
    const seeds = seedsCopy();
    const work = tempDir();
    const env = { EMBED_MODEL: modelDir, SEEDS_DIR: seeds, INDEX_DIR: path.join(work, 'unused'), DATABASE_URL: db.url };
    const vocab = vocabularyOf(seeds);
    for (let i = 0; i < 8; i++) writeFileSync(path.join(seeds, `synthetic_${i}.txt`), syntheticDocument(vocab, i, 30));
    const child = startCli('index.ts', [], env, work);
    const run = collect(child, '');
    // Stopped once the build holds its lock and writes its generation's rows (the first build creates the table).
    await waitFor(async () => {
      if (child.exitCode !== null)
        throw new Error(`the build ended before the database went away: ${(await run).stderr}`);
      const building = `SELECT count(*)::int AS n FROM cite_passages WHERE born IN (SELECT id FROM cite_generations WHERE state = 'building')`;
      return (await sqlRows(db.url, building).catch(() => [{ n: 0 }]))[0].n > 0;
    }, 120_000);
    await db.stop();
    const { code, stderr } = await run;
    expect(code).toBe(1);
    expect(stderr).toMatch(/PostgreSQL \(DATABASE_URL\) cannot be reached/);
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 300_000);

  it('a build killed half-way: readers keep the live generation, the next build is free and removes its rows', async () => {
    const db = await database();
    const seeds = seedsCopy();
    const work = tempDir();
    const env = { EMBED_MODEL: modelDir, SEEDS_DIR: seeds, INDEX_DIR: path.join(work, 'unused'), DATABASE_URL: db.url };
    expect((await runCli('index.ts', [], env, work)).code).toBe(0);
    const reader = await Engine.open(testConfig(env));
    const live = reader.manifest;
    // Enough new passages that the build is still writing rows when it is killed.
    const vocab = vocabularyOf(seeds);
    for (let i = 0; i < 8; i++) writeFileSync(path.join(seeds, `synthetic_${i}.txt`), syntheticDocument(vocab, i, 30));
    const child = startCli('index.ts', [], env, work);
    const client = new pg.Client(db.url);
    await client.connect();
    try {
      // Wait until the build has written rows of its generation, then kill it.
      for (;;) {
        const { rows } = await client.query(
          `SELECT count(*)::int AS n FROM cite_passages WHERE born IN (SELECT id FROM cite_generations WHERE state = 'building')`,
        );
        if (rows[0].n > 0) break;
        if (child.exitCode !== null) throw new Error('the build ended before it could be killed');
      }
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      expect(
        (await client.query(`SELECT count(*)::int AS n FROM cite_generations WHERE state = 'building'`)).rows[0].n,
      ).toBe(1);
    } finally {
      await client.end();
    }
    // The reader still answers from the live generation, whole.
    expect(reader.manifest.builtAt).toBe(live.builtAt);
    expect((await reader.ask(EXPELLED)).answered).toBe(true);
    const next = await runCli('index.ts', [], env, work);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/Indexed 13 documents/);
    expect(await count(db.url, `SELECT count(*) AS n FROM cite_generations`)).toBe(1);
    expect(await count(db.url, 'SELECT count(*) AS n FROM cite_passages')).toBe(
      await count(db.url, `SELECT (manifest->>'chunkCount')::int AS n FROM cite_generations`),
    );
    // The reader follows the new generation by itself.
    await waitFor(async () => reader.manifest.documents.length === 13);
    await reader.close();
  }, 500_000);
});

describe('lexical search in PostgreSQL', () => {
  it('scores BM25 in SQL as the file store does (word forms, synonyms, close spellings, unknown words, rarity), no postings in the reader, and follows a re-index', async () => {
    const db = await database();
    const seeds = seedsCopy();
    const work = tempDir();
    const indexDir = path.join(work, 'index');
    const env = {
      EMBED_MODEL: modelDir,
      SEEDS_DIR: seeds,
      INDEX_DIR: indexDir,
      EMBED_CACHE_DIR: path.join(work, 'cache'),
    };
    const questions = [
      ...readFileSync(path.join(SEEDS, '..', 'dev.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).q as string),
      'expel Azerbaycan 1948 organisations remain',
      'trade unions railway',
      'Azerbaijanis deported',
      'zebra quartet lighthouse',
      '5,000 houses',
      // English synonyms (synonyms.ts): "region" for "districts", "damage" for "harm", chosen alike by both stores.
      'Which districts suffered harm?',
    ];
    const compare = async () => {
      expect((await runCli('index.ts', [], env, work)).code).toBe(0);
      const files = await loadIndex(indexDir);
      const engine = await Engine.open(testConfig({ ...env, DATABASE_URL: db.url }));
      const pgLive = await engine.storage.index.openLive();
      const lexical = pgLive.lexical as PgLexical;
      expect(lexical).toBeInstanceOf(PgLexical);
      for (const q of questions) {
        await lexical.prepare(q);
        // 50 as the retriever asks; 3 and 10 prune the most (the bar is higher: fewer words read in full).
        for (const limit of [50, 10, 3]) {
          const [want, got] = [files.lexical.query(q, limit), await lexical.query(q, limit)];
          // The same passages with the same scores (labels differ once the stores changed differently;
          // equal scores are ordered by label, so compared as sets above the last score).
          expect(got.scores.length, q).toBe(want.scores.length);
          got.scores.forEach((score, i) => expect(score, `${q} (${limit})`).toBeCloseTo(want.scores[i]!, 3));
          const last = want.scores.at(-1) ?? 0;
          const passages = async (labels: number[], scores: number[], chunks: { get(l: number): unknown }) =>
            (await Promise.all(labels.filter((_, i) => scores[i]! > last + 1e-4).map((l) => chunks.get(l))))
              .map((c) => `${(c as Chunk).doc}@${(c as Chunk).start}`)
              .sort();
          expect(await passages(got.labels, got.scores, pgLive.chunks), `${q} (${limit})`).toEqual(
            await passages(want.labels, want.scores, files.chunks),
          );
        }
        expect(lexical.unknownTerms(q), q).toEqual(files.lexical.unknownTerms(q));
        for (const t of new Set(q.toLowerCase().split(/\W+/)))
          expect(lexical.idf(t), t).toBeCloseTo(files.lexical.idf(t), 9);
        const text = (await files.chunks.get(files.lexical.query(q, 50).labels[0] ?? 0))!.text;
        expect(lexical.coverage(q, text), q).toBeCloseTo(files.lexical.coverage(q, text), 9);
      }
      await engine.close();
    };
    await compare();
    // Documents added, changed, renamed and removed: the counts follow, incrementally.
    const [first, second, third] = readdirSync(seeds).sort();
    appendFileSync(path.join(seeds, first!), '\n\nThe zebra quartet rehearsed in the lighthouse every Thursday.\n');
    cpSync(path.join(seeds, second!), path.join(seeds, 'moved.txt'));
    rmSync(path.join(seeds, second!));
    rmSync(path.join(seeds, third!));
    writeFileSync(
      path.join(seeds, 'new.txt'),
      'Railway unions\n\nThe railway workers union organised a deported workers fund.\n',
    );
    await compare();
    // Only the rows of the live generation and of the one before remain (a replica one behind).
    expect(
      await count(
        db.url,
        `SELECT count(*) AS n FROM cite_terms WHERE died IS NOT NULL AND died < (SELECT generation FROM cite_live)`,
      ),
    ).toBe(0);
    expect(await count(db.url, `SELECT count(*) AS n FROM cite_generations WHERE lexical IS NOT NULL`)).toBe(0);
  }, 600_000);
});

describe('pruned lexical search', () => {
  // Words by bound (the most a word adds to a score), the highest first, with their postings.
  const words = [
    { bound: 12, df: 10_000 },
    { bound: 8, df: 2_000 },
    { bound: 2, df: 50_000 },
    { bound: 1, df: 90_000 },
  ];
  it('reads the rarest words until a passage matching none of them stays below the bar', () => {
    expect(restBound(words, 1)).toBe((8 + 2 + 1) * 3); // a score is the sum times the words matched
    expect(restBound(words, 2)).toBe((2 + 1) * 2);
    expect(splitFor(words, 40)).toBe(1);
    expect(splitFor(words, 33)).toBe(2); // 33 could still be reached: not pruned
    expect(splitFor(words, 0)).toBe(4); // no bar: every word is read
  });
  it('reads one more word when that costs less than looking up the passages of the first', () => {
    // Bar 50: with one word read, its passages can reach (12 + 11) * 4; with two, one word's passages stay below.
    expect(cheapestSplit(words, 50, 1_000_000)).toBe(2);
    expect(cheapestSplit([{ bound: 12, df: 100 }, ...words.slice(1)], 50, 1_000_000)).toBe(1);
  });
});

describe('vector search in PostgreSQL', () => {
  it('builds HNSW with HNSW_M / HNSW_EF_CONSTRUCTION, measures ef_search at build, and queries keep the index at that setting', async () => {
    const db = await database();
    const seeds = seedsCopy();
    const env = {
      EMBED_MODEL: modelDir,
      INDEX_DIR: path.join(tempDir(), 'unused'),
      SEEDS_DIR: seeds,
      DATABASE_URL: db.url,
      EXACT_SEARCH_MAX: '0',
      HNSW_M: '24',
      HNSW_EF_CONSTRUCTION: '120',
    };
    const engine = await Engine.open(testConfig(env));
    const hnsw = engine.manifest.hnsw!;
    expect(hnsw).toMatchObject({ M: 24, efConstruction: 120, tunedAtChunks: 87 });
    expect(hnsw.recallAt10).toBeGreaterThanOrEqual(0.95);
    const options = await sqlRows(db.url, `SELECT reloptions FROM pg_class WHERE relname = 'cite_passages_hnsw'`);
    expect(options[0].reloptions.sort()).toEqual(['ef_construction=120', 'm=24']);
    const dense = (await engine.storage.index.openLive()).dense as PgDense;
    const q = await engine.embedder.embedQuery(EXPELLED);
    expect(dense.efSearch).toBe(hnsw.efSearch);
    const generation = await liveGenerationOf(db.url);
    // The planner costs the index above a sort of the whole table from ef_search 400 on: still the index.
    for (const ef of [hnsw.efSearch, 400, 1000]) {
      const plan = await new PgDense((engine.storage.index as PostgresIndex).db, generation, ef).plan(q, 50);
      expect(plan, `ef_search ${ef}`).toMatch(/Index Scan using cite_passages_hnsw/);
      expect(plan).not.toMatch(/Seq Scan|Sort/);
    }
    expect((await engine.ask(EXPELLED)).hits[0]!.text).toContain('1948-1953');
    // Other graph settings with the same documents: the graph is rebuilt, ef_search measured again.
    await engine.close();
    const again = await Engine.open(testConfig({ ...env, HNSW_M: '16', HNSW_EF_CONSTRUCTION: '64' }));
    expect(again.manifest.hnsw).toMatchObject({ M: 16, efConstruction: 64 });
    expect(
      (
        await sqlRows(db.url, `SELECT reloptions FROM pg_class WHERE relname = 'cite_passages_hnsw'`)
      )[0].reloptions.sort(),
    ).toEqual(['ef_construction=64', 'm=16']);
    await again.close();
  }, 300_000);

  it("pagesOf reads a document's passages in one query", async () => {
    const db = await database();
    const engine = await Engine.open(
      testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: path.join(tempDir(), 'unused'), DATABASE_URL: db.url }),
    );
    const doc = engine.manifest.documents.reduce((a, b) => (b.chunks > a.chunks ? b : a));
    expect(doc.chunks).toBeGreaterThan(5);
    const pool = (engine.storage.index as PostgresIndex).db;
    const query = pool.query.bind(pool);
    let queries = 0;
    pool.query = ((...args: Parameters<typeof query>) => (queries++, query(...args))) as typeof pool.query;
    expect(await engine.pagesOf(doc.file)).toBeUndefined(); // text files have no pages
    expect(queries).toBe(1);
    await engine.close();
  }, 120_000);
});

describe('the schema', () => {
  it('is created on first use, an older one is upgraded, a newer one is refused with a clear message', async () => {
    const db = await database();
    const options = searchOptions(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: tempDir() }));
    await (await PostgresIndex.connect(db.url, options)).close();
    expect(await count(db.url, 'SELECT version AS n FROM cite_schema')).toBe(SCHEMA_VERSION);
    // A database of version 1 (before the desk tables): upgraded in place.
    await sql(
      db.url,
      'DROP TABLE cite_feedback, cite_unanswered, cite_uploads, cite_access, cite_postings, cite_terms; ALTER TABLE cite_generations DROP COLUMN lexical_totals; UPDATE cite_schema SET version = 1',
    );
    await (await PostgresIndex.connect(db.url, options)).close();
    expect(await count(db.url, 'SELECT version AS n FROM cite_schema')).toBe(SCHEMA_VERSION);
    expect(
      await count(
        db.url,
        `SELECT count(*) AS n FROM pg_tables WHERE tablename IN ('cite_feedback', 'cite_unanswered', 'cite_uploads', 'cite_access')`,
      ),
    ).toBe(4);
    await sql(db.url, 'UPDATE cite_schema SET version = 99');
    const refused = await PostgresIndex.connect(db.url, options).catch((err) => err);
    expect(refused).toBeInstanceOf(SchemaError);
    expect(refused.message).toMatch(new RegExp(`version 99; this Cite knows up to version ${SCHEMA_VERSION}`));
  }, 60_000);
});

describe('the desk in PostgreSQL', () => {
  it('keeps feedback (a later vote replaces the earlier), unanswered questions, uploads and access for every replica', async () => {
    const db = await database();
    const options = searchOptions(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: tempDir() }));
    const [one, two] = [await PostgresIndex.connect(db.url, options), await PostgresIndex.connect(db.url, options)];
    const [a, b] = [new PgDeskStore(one.db), new PgDeskStore(two.db)];
    const vote = {
      answer: 'x1',
      q: 'q?',
      lang: 'en' as const,
      passages: [{ doc: 'a.txt', title: 'A', text: 't' }],
      user: 'u1',
      at: '2026-01-01T00:00:00Z',
    };
    await a.addFeedback({ ...vote, vote: 'up' });
    await b.addFeedback({ ...vote, vote: 'down' });
    expect((await a.feedback()).map((f) => f.vote)).toEqual(['down']);
    await b.addUnanswered({ q: 'GDP?', lang: 'en', user: 'u2', at: vote.at });
    expect(await a.unanswered()).toEqual([{ q: 'GDP?', lang: 'en', user: 'u2', at: vote.at }]);
    await a.addUpload({ file: 'uploads/r.pdf', by: 'h', at: vote.at });
    expect([...(await b.uploads()).keys()]).toEqual(['uploads/r.pdf']);
    await b.removeUpload('uploads/r.pdf');
    expect((await a.uploads()).size).toBe(0);
    expect(await a.accessOf(7)).toBeUndefined();
    await a.setAccess(7, true);
    await b.setAccess(7, false);
    expect(await a.accessOf(7)).toBe(false);
    expect(await a.summary()).toEqual({
      up: 0,
      down: 1,
      unsure: { up: 0, down: 0 },
      lastDown: ['q?'],
      lastUnanswered: ['GDP?'],
    });
    await one.close();
    await two.close();
  }, 60_000);

  it('a decision whose write fails (the database’s disk is full) is refused and not in effect; the next one works', async () => {
    const db = await database();
    const options = searchOptions(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: tempDir() }));
    const index = await PostgresIndex.connect(db.url, options);
    const store = new PgDeskStore(index.db);
    await store.setAccess(8, true);
    await store.addUpload({ file: 'uploads/r.pdf', by: 'h', at: '2026-01-01T00:00:00Z' });
    const full = `CREATE FUNCTION cite_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; END $$;
      CREATE TRIGGER full_access BEFORE INSERT OR UPDATE ON cite_access FOR EACH ROW EXECUTE FUNCTION cite_disk_full();
      CREATE TRIGGER full_uploads BEFORE DELETE ON cite_uploads FOR EACH ROW EXECUTE FUNCTION cite_disk_full();`;
    await index.db.query(full);
    await expect(store.setAccess(8, false)).rejects.toMatchObject({ code: '53100' });
    await expect(store.removeUpload('uploads/r.pdf')).rejects.toMatchObject({ code: '53100' });
    expect(await store.accessOf(8)).toBe(true);
    expect([...(await store.uploads()).keys()]).toEqual(['uploads/r.pdf']);
    await index.db.query('DROP TRIGGER full_access ON cite_access; DROP TRIGGER full_uploads ON cite_uploads');
    await store.setAccess(8, false);
    expect(await store.accessOf(8)).toBe(false);
    await index.close();
  }, 60_000);
});

async function sqlRows(url: string, text: string): Promise<any[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

async function liveGenerationOf(url: string): Promise<number> {
  return Number((await sqlRows(url, 'SELECT generation FROM cite_live'))[0].generation);
}

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
