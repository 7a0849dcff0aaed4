/** A PostgreSQL build that fails after its switch leaves the new generation live and whole. */
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { syntheticDocument, vocabularyOf } from '../src/bench/synthetic.js';
import { openDb, type Db } from '../src/db/pool.js';
import { buildInPostgres } from '../src/index/postgres/build.js';
import { buildSettings, searchOptions } from '../src/index/settings.js';
import { startTestPg, type TestPg } from './support/pgServer.js';
import { SEEDS, tempDirs, testConfig, testEmbedder, testModelDir } from './support/testModel.js';

const tempDir = tempDirs('cite-pg-publish-');
let server: TestPg | undefined;
let db: Db | undefined;
afterAll(async () => {
  await db?.end();
  await server?.close();
});

/** Passages the generation sees: born at or before it, not dead by it. */
async function visible(db: Db, generation: number, from = 0, count = 2 ** 31 - 1): Promise<number> {
  const sql =
    'SELECT count(*) AS n FROM cite_passages WHERE label >= $2 AND label < $2 + $3 AND born <= $1 AND (died IS NULL OR died > $1)';
  return Number((await db.query(sql, [generation, from, count])).rows[0].n);
}

it('the tidy-up after the switch failing (a dropped connection) keeps the new generation live, with all its passages', async () => {
  server = await startTestPg();
  const seeds = tempDir();
  cpSync(SEEDS, seeds, { recursive: true });
  const config = testConfig({ EMBED_MODEL: await testModelDir(), SEEDS_DIR: seeds, INDEX_DIR: tempDir() });
  const embedder = await testEmbedder();
  db = openDb(server.url);
  await buildInPostgres(db, buildSettings(config), searchOptions(config), embedder);
  writeFileSync(path.join(seeds, 'walrus.txt'), syntheticDocument(vocabularyOf(seeds), 0, 30));

  // The first statement dropping the old generation's rows fails once.
  const query = db.query.bind(db);
  let failed = false;
  db.query = ((text: unknown, values?: unknown[]) => {
    if (!failed && typeof text === 'string' && text.startsWith('DELETE FROM cite_passages WHERE died IS NOT NULL')) {
      failed = true;
      return Promise.reject(new Error('Connection terminated unexpectedly'));
    }
    return query(text as string, values);
  }) as Db['query'];
  const summary = await buildInPostgres(db, buildSettings(config), searchOptions(config), embedder);
  db.query = query;
  expect(failed).toBe(true);

  const live = Number((await db.query('SELECT generation FROM cite_live')).rows[0].generation);
  expect(summary.upToDate).toBe(false); // the build succeeded: its generation is live
  const { manifest } = (await db.query('SELECT manifest FROM cite_generations WHERE id = $1', [live])).rows[0];
  const walrus = manifest.documents.find((d: { file: string }) => d.file === 'walrus.txt');
  expect(await visible(db, live, walrus.firstLabel, walrus.chunks)).toBe(walrus.chunks); // were deleted: 0
  expect(await visible(db, live)).toBe(manifest.chunkCount);
  // The next build removes what the failed tidy-up left, and finds nothing to do.
  expect((await buildInPostgres(db, buildSettings(config), searchOptions(config), embedder)).upToDate).toBe(true);
}, 120_000);

it('the connection holding the build lock breaking mid-build: the build does not switch (another may have started), the next one runs', async () => {
  const lockServer = await startTestPg();
  const seeds = tempDir();
  cpSync(SEEDS, seeds, { recursive: true });
  const config = testConfig({ EMBED_MODEL: await testModelDir(), SEEDS_DIR: seeds, INDEX_DIR: tempDir() });
  const embedder = await testEmbedder();
  const lockDb = openDb(lockServer.url);
  try {
    await buildInPostgres(lockDb, buildSettings(config), searchOptions(config), embedder);
    const live = Number((await lockDb.query('SELECT generation FROM cite_live')).rows[0].generation);
    writeFileSync(path.join(seeds, 'walrus.txt'), syntheticDocument(vocabularyOf(seeds), 0, 30));
    // The connection that takes the lock, found by its statement.
    let lockClient: pg.PoolClient | undefined;
    lockDb.on('acquire', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      client.query = ((...args: unknown[]) => {
        if (String(args[0]).includes('pg_try_advisory_lock')) lockClient = client;
        return query(...args);
      }) as typeof client.query;
    });
    const failed = await buildInPostgres(lockDb, buildSettings(config), searchOptions(config), embedder, (p) => {
      // Cut while the build writes (an idle timeout on the server, a NAT forgetting the idle connection).
      if (p.stage === 'writing')
        (lockClient as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    }).catch((err: Error) => err);
    expect(lockClient).toBeDefined();
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toMatch(/build lock was lost/);
    expect(Number((await lockDb.query('SELECT generation FROM cite_live')).rows[0].generation)).toBe(live);
    const next = await buildInPostgres(lockDb, buildSettings(config), searchOptions(config), embedder);
    expect(next.embedded).toEqual(['walrus.txt']);
  } finally {
    await lockDb.end();
    await lockServer.close();
  }
}, 120_000);
