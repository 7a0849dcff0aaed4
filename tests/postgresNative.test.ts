/**
 * The PostgreSQL store against a native server (PostgreSQL with pgvector, one backend per
 * connection, unlike PGlite's single session): notifications to replicas, the build lock across
 * processes, the planner at high ef_search. Runs when NATIVE_DATABASE_URL is set, e.g.
 *   NATIVE_DATABASE_URL=$(/work/shared/tools/native-postgres.sh start | cut -d= -f2) npx vitest run tests/postgresNative.test.ts
 * Each test uses a database of its own, created and dropped on that server.
 */
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticDocument, vocabularyOf } from '../src/bench/synthetic.js';
import { Engine } from '../src/engine.js';
import { searchOptions } from '../src/index/settings.js';
import { PgDense } from '../src/index/postgres/reader.js';
import { migrate, SCHEMA_VERSION } from '../src/index/postgres/schema.js';
import { PostgresIndex } from '../src/index/postgres/source.js';
import type { IndexData } from '../src/index/indexData.js';
import { runCli, startCli } from './support/cli.js';
import { SEEDS, tempDirs, testConfig, testModelDir } from './support/testModel.js';

const NATIVE = process.env.NATIVE_DATABASE_URL;
if (!NATIVE) {
  console.log(
    'tests/postgresNative.test.ts skipped: set NATIVE_DATABASE_URL to a PostgreSQL server with pgvector, e.g. the one `/work/shared/tools/native-postgres.sh start` prints (postgres://postgres@127.0.0.1:55432/cite).',
  );
}

const tempDir = tempDirs('cite-native-');
let modelDir: string;
const databases: string[] = [];

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(NATIVE);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A new empty database on the native server; its URL. */
async function database(): Promise<string> {
  const name = `cite_test_${process.pid}_${databases.length}`;
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  databases.push(name);
  const url = new URL(NATIVE!);
  url.pathname = `/${name}`;
  return url.toString();
}

async function rows(url: string, sql: string): Promise<any[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function seedsWith(extraDocuments: number): string {
  const dir = tempDir();
  cpSync(SEEDS, dir, { recursive: true });
  const vocab = vocabularyOf(dir);
  for (let i = 0; i < extraDocuments; i++)
    writeFileSync(path.join(dir, `synthetic_${i}.txt`), syntheticDocument(vocab, i, 40));
  return dir;
}

describe.skipIf(!NATIVE)('PostgreSQL store on a native server', () => {
  beforeAll(async () => {
    modelDir = await testModelDir();
  });
  afterAll(async () => {
    for (const name of databases) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  });

  it('processes starting at once on a new database (replicas): each migrates it or waits for the one that does', async () => {
    // Before the migration lock, concurrent CREATE TABLE IF NOT EXISTS failed ("duplicate key … pg_type") in 29 of 60 starts.
    for (let round = 0; round < 5; round++) {
      const url = await database();
      const pools = Array.from({ length: 6 }, () => new pg.Pool({ connectionString: url }));
      try {
        const failed = (await Promise.allSettled(pools.map((p) => migrate(p)))).filter((r) => r.status === 'rejected');
        expect(failed).toEqual([]);
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
      expect(await rows(url, 'SELECT version FROM cite_schema')).toEqual([{ version: SCHEMA_VERSION }]);
    }
  }, 120_000);

  it('a replica hears of a new generation within a second (LISTEN/NOTIFY), with its pointer-row poll an hour away', async () => {
    const url = await database();
    const seeds = seedsWith(0);
    const config = testConfig({
      EMBED_MODEL: modelDir,
      INDEX_DIR: path.join(tempDir(), 'unused'),
      SEEDS_DIR: seeds,
      DATABASE_URL: url,
    });
    const builder = await Engine.open(config);
    const replica = await PostgresIndex.connect(url, searchOptions(config));
    let seen: IndexData | undefined;
    let current = (await replica.openLive()).generation;
    replica.follow(
      () => current,
      (index) => ((seen = index), (current = index.generation)),
      3_600_000,
    );
    await new Promise((r) => setTimeout(r, 500)); // its LISTEN is in place (it connects on its own)
    writeFileSync(path.join(seeds, 'new.txt'), 'The heron almanac\n\nA heron almanac lists the herons of the delta.\n');
    await builder.reindex();
    const switchedAt = (await rows(url, 'SELECT extract(epoch FROM switched_at) * 1000 AS at FROM cite_live'))[0]
      .at as number;
    await until(() => seen !== undefined, 5_000);
    const lag = Date.now() - switchedAt;
    expect(seen!.generation).toEqual((await builder.storage.index.openLive()).generation);
    expect(lag).toBeLessThan(1_000);
    await replica.close();
    await builder.close();
  }, 300_000);

  it('two builds from two processes at once: one builds, the other says another build runs; a killed build releases the lock', async () => {
    const url = await database();
    const seeds = seedsWith(12); // long enough that both start while the first still holds the lock
    const work = tempDir();
    const env = { EMBED_MODEL: modelDir, SEEDS_DIR: seeds, INDEX_DIR: path.join(work, 'unused'), DATABASE_URL: url };
    const [one, two] = await Promise.all([runCli('index.ts', [], env, work), runCli('index.ts', [], env, work)]);
    const [built, refused] = one.code === 0 ? [one, two] : [two, one];
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toMatch(/Indexed 17 documents/);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Another index build is writing to the database right now/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);

    // A build killed while it holds the lock: the server releases it with the connection.
    writeFileSync(path.join(seeds, 'synthetic_99.txt'), syntheticDocument(vocabularyOf(seeds), 99, 200));
    const child = startCli('index.ts', [], env, work);
    const held = `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = ${0x63697465}`;
    await until(async () => (await rows(url, held))[0].n === 1 || child.exitCode !== null);
    expect(child.exitCode).toBeNull();
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    await until(async () => (await rows(url, held))[0].n === 0, 10_000);
    const next = await runCli('index.ts', [], env, work);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/Indexed 18 documents/);
  }, 600_000);

  it('the planner keeps the HNSW index from the measured ef_search up to pgvector’s maximum', async () => {
    const url = await database();
    const seeds = seedsWith(40);
    const config = testConfig({
      EMBED_MODEL: modelDir,
      INDEX_DIR: path.join(tempDir(), 'unused'),
      SEEDS_DIR: seeds,
      DATABASE_URL: url,
      EXACT_SEARCH_MAX: '0',
    });
    const engine = await Engine.open(config);
    const hnsw = engine.manifest.hnsw!;
    expect(hnsw.recallAt10).toBeGreaterThanOrEqual(0.95);
    await rows(url, 'ANALYZE cite_passages');
    const generation = Number((await rows(url, 'SELECT generation FROM cite_live'))[0].generation);
    const q = await engine.embedder.embedQuery('How many Azerbaijanis were expelled in 1948-1953?');
    for (const ef of [hnsw.efSearch, 400, 800, 1000]) {
      const plan = await new PgDense((engine.storage.index as PostgresIndex).db, generation, ef).plan(q, 50);
      expect(plan, `ef_search ${ef}`).toMatch(/Index Scan using cite_passages_hnsw/);
    }
    await engine.close();
  }, 600_000);
});
