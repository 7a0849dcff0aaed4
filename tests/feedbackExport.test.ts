/**
 * `npm run feedback -- export` with DATABASE_URL reads the desk the replicas write to (PostgreSQL),
 * not the file desk beside the index (issue 19 item 12).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../src/db/pool.js';
import { PgDeskStore } from '../src/desk/postgres.js';
import { migrate } from '../src/index/postgres/schema.js';
import { runCli } from './support/cli.js';
import { startTestPg, type TestPg } from './support/pgServer.js';
import { tempDirs } from './support/testModel.js';

const tmp = tempDirs('cite-feedback-pg-');
let pg: TestPg;
let db: Db;

beforeAll(async () => {
  pg = await startTestPg();
  db = openDb(pg.url, 2);
  await migrate(db);
}, 60_000);

afterAll(async () => {
  await db?.end();
  await pg?.stop();
});

describe('npm run feedback -- export with DATABASE_URL', () => {
  it("exports the PostgreSQL desk's questions (what any replica recorded), not the file desk's", async () => {
    const desk = new PgDeskStore(db);
    const at = new Date().toISOString();
    await desk.addUnanswered({ q: 'Asked on replica A, not covered?', lang: 'en', user: 'u1', at });
    const passages = [{ doc: 'a.txt', title: 'A', text: 'The answer is here.' }];
    await desk.addFeedback({
      answer: 'x1',
      vote: 'up',
      q: 'Voted on replica B?',
      lang: 'en',
      passages,
      user: 'u2',
      at,
    });
    // A file desk beside the index with another question: with DATABASE_URL it is not the desk.
    const indexDir = tmp();
    mkdirSync(indexDir, { recursive: true });
    writeFileSync(
      path.join(indexDir, 'desk.jsonl'),
      `${JSON.stringify({ type: 'unanswered', q: 'Only in the file?', lang: 'en', user: 'u3', at })}\n`,
    );
    const out = await runCli('feedback.ts', ['export'], { DATABASE_URL: pg.url, INDEX_DIR: indexDir }, tmp());
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { q: 'Asked on replica A, not covered?', lang: 'en', gold: [] },
      { q: 'Voted on replica B?', lang: 'en', gold: [{ doc: 'a.txt', text: 'The answer is here.' }] },
    ]);
  }, 60_000);
});
