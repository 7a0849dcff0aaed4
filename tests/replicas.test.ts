/**
 * Two bot replicas (`npm start` processes) in webhook mode sharing one PostgreSQL (PGlite with
 * pgvector on 127.0.0.1), against the fake Bot API, which posts each update to the replica a load
 * balancer would pick. Buttons and rate limits work across replicas, a re-index on one is answered
 * from by the other, a replica killed mid-build leaves the other answering and the next build free,
 * and the database going away and coming back is survived.
 */
import type { ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticDocument, vocabularyOf } from '../src/bench/synthetic.js';
import { ADMIN, buttonData, TOKEN, user } from './support/botHarness.js';
import { runCli, startCli } from './support/cli.js';
import { FakeBotApi } from './support/fakeBotApi.js';
import { startTestPg, type TestPg } from './support/pgServer.js';
import { SEEDS, tempDirs, testModelDir } from './support/testModel.js';

const tmp = tempDirs('cite-replicas-');
const SECRET = 'replica-secret_0123';
const EXPELLED = 'How many Azerbaijanis were expelled in 1948-1953?';
const NEW_QUESTION = 'What is a flibbertigibbet?';
const NEW_DOC =
  'The flibbertigibbet notice\n\nA flibbertigibbet is a frivolous, flighty and excessively talkative person, says this notice about the flibbertigibbet.\n';

let db: TestPg;
let fake: FakeBotApi;
let seeds: string;
let work: string;
let env: Record<string, string>;

interface Replica {
  url: string;
  health: string;
  child: ChildProcess;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

async function startReplica(name: string): Promise<Replica> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/telegram/${name}`;
  const child = startCli('start.ts', [], { ...env, WEBHOOK_URL: url, PORT: String(port) }, work);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const health = `http://127.0.0.1:${port}/healthz`;
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`replica ${name} exited: ${stderr}`);
    return (
      (await fetch(health)
        .then((r) => r.status)
        .catch(() => 0)) === 200
    );
  }, 60_000);
  return { url, health, child };
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A question from `from` to replica `to`; resolves with the text of the first reply that matches. */
async function ask(
  to: Replica,
  from: { id: number },
  question: string,
  reply: (plain: string) => boolean = () => true,
) {
  const before = fake.messages.length;
  expect(await fake.deliver(fake.sendText(from, question), to.url)).toBe(200);
  return fake.waitFor(() => fake.messages.slice(before).find((m) => m.chat_id === from.id && reply(m.plain)), 15_000);
}

let a: Replica;
let b: Replica;

beforeAll(async () => {
  db = await startTestPg();
  fake = await FakeBotApi.start({ token: TOKEN });
  work = tmp();
  seeds = tmp();
  cpSync(SEEDS, seeds, { recursive: true });
  env = {
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: fake.apiRoot,
    ADMIN_IDS: String(ADMIN.id),
    DATABASE_URL: db.url,
    WEBHOOK_SECRET: SECRET,
    EMBED_MODEL: await testModelDir(),
    SEEDS_DIR: seeds,
    INDEX_DIR: path.join(work, 'unused-index'),
    EMBED_CACHE_DIR: path.join(work, 'cache'),
    RATE_LIMIT_PER_MINUTE: '5',
  };
  expect((await runCli('index.ts', [], env, work)).code).toBe(0);
  [a, b] = await Promise.all([startReplica('a'), startReplica('b')]);
}, 120_000);

afterAll(async () => {
  for (const r of [a, b]) r?.child.kill('SIGKILL');
  await fake?.stop();
  await db?.close();
});

describe('two webhook replicas on one PostgreSQL', () => {
  it('register the webhook with the secret; an update without it gets 401 and nothing is done', async () => {
    expect(fake.webhook?.secret).toBe(SECRET);
    const before = fake.messages.length;
    expect(await fake.deliver(fake.sendText(user(501), EXPELLED), a.url, 'wrong')).toBe(401);
    expect(await fake.deliver(fake.sendText(user(501), EXPELLED), b.url, '')).toBe(401);
    expect((await fetch(a.url.replace('/telegram/a', '/elsewhere'), { method: 'POST', body: '{}' })).status).toBe(404);
    await new Promise((r) => setTimeout(r, 300)); // nothing may arrive (a bounded look, not a wait for success)
    expect(fake.messages.length).toBe(before);
  });

  it("both answer; a button under one replica's reply is served by the other; rate limits are shared", async () => {
    const u = user(502);
    const first = await ask(a, u, EXPELLED, (p) => p.includes('1948-1953'));
    expect((await ask(b, u, EXPELLED, (p) => p.includes('1948-1953'))).plain).toBe(first.plain);
    const more = buttonData(first, 'More results')!;
    expect(more).toBeDefined();
    const before = fake.messages.length;
    expect(await fake.deliver(fake.pressButton(u, first, more), b.url)).toBe(200);
    await fake.waitFor(
      () => fake.messages.slice(before).find((m) => m.chat_id === u.id && /^\s*4\./m.test(m.plain)),
      15_000,
    );
    // RATE_LIMIT_PER_MINUTE=5, counted across replicas: 2 above, 3 more, then the sixth is refused.
    for (const to of [a, b, a]) await ask(to, u, EXPELLED, (p) => p.includes('1948-1953'));
    await ask(b, u, EXPELLED, (p) => /too many|slow down|minute/i.test(p));
  });

  it('an update posted to both replicas (a retried POST, a redelivery) is answered once', async () => {
    const u = user(506);
    const before = fake.messages.length;
    const update = fake.sendText(u, EXPELLED);
    const body = JSON.stringify(update);
    const post = (to: Replica) =>
      fetch(to.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': SECRET },
        body,
      }).then((r) => r.status);
    expect(await fake.deliver(update, a.url)).toBe(200);
    expect(await post(b)).toBe(200); // handled already (by A): acknowledged, nothing sent
    const twin = fake.sendText(u, EXPELLED);
    const twinBody = JSON.stringify(twin);
    const both = await Promise.all(
      [a, b].map((to) =>
        fetch(to.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': SECRET },
          body: twinBody,
        }).then((r) => r.status),
      ),
    );
    expect(both.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1); // the other: 200 (done) or 503 (busy: Telegram posts it again)
    await fake.waitFor(() => fake.messages.slice(before).filter((m) => m.chat_id === u.id).length >= 2, 15_000);
    await new Promise((r) => setTimeout(r, 500)); // a bounded look for a third answer
    expect(fake.messages.slice(before).filter((m) => m.chat_id === u.id)).toHaveLength(2);
  });

  it('a re-index on one replica is answered from by the other', async () => {
    writeFileSync(path.join(seeds, '010_new.txt'), NEW_DOC);
    const before = fake.messages.length;
    await fake.deliver(fake.sendCommand(ADMIN, 'reindex'), a.url);
    await fake.waitFor(
      () =>
        fake.messages.slice(before).find((m) => m.chat_id === ADMIN.id && m.edits.some((e) => /010_new\.txt/.test(e))),
      60_000,
    );
    // B switches to the new generation by itself (it polls the pointer row every second).
    // Each try from another user: one user's repeated questions would reach the rate limit.
    let tries = 0;
    await until(
      async () => (await ask(b, user(600 + tries++), NEW_QUESTION)).plain.includes('flibbertigibbet is a frivolous'),
      30_000,
    );
  }, 90_000);

  it('"replace?" asked by one replica is answered by the other, once', async () => {
    const upload = async (to: Replica, content: string, reply: RegExp) => {
      const before = fake.messages.length;
      expect(await fake.deliver(fake.sendDocument(ADMIN, { name: 'notice.txt', content }), to.url)).toBe(200);
      return fake.waitFor(
        () => fake.messages.slice(before).find((m) => m.chat_id === ADMIN.id && reply.test(m.plain)),
        60_000,
      );
    };
    await upload(a, NEW_DOC, /^Added/);
    const question = await upload(a, NEW_DOC.replace(/flibbertigibbet/g, 'snollygoster'), /already exists/);
    const replace = buttonData(question, 'Replace')!;
    const before = fake.messages.length;
    const answered = fake.callbackAnswers.length;
    const presses = [fake.pressButton(ADMIN, question, replace), fake.pressRaw(ADMIN, question, replace)];
    expect(await fake.deliver(presses[0]!, b.url)).toBe(200);
    expect(await fake.deliver(presses[1]!, a.url)).toBe(200); // a second tap, reaching the other replica
    const added = await fake.waitFor(
      () => fake.messages.slice(before).find((m) => m.chat_id === ADMIN.id && /^Added/.test(m.plain)),
      60_000,
    );
    expect(added.plain).toMatch(/^Added «The snollygoster notice» \(uploads\/notice\.txt\)/);
    expect(readFileSync(path.join(seeds, 'uploads', 'notice.txt'), 'utf8')).toMatch(/snollygoster/);
    expect(fake.callbackAnswers.slice(answered).map((c) => c.text ?? '')).toEqual([
      '',
      expect.stringMatching(/expired/),
    ]);
  }, 120_000);

  it('a replica killed mid-build leaves the other answering and the next build free', async () => {
    const vocab = vocabularyOf(seeds);
    for (let i = 0; i < 12; i++) writeFileSync(path.join(seeds, `synthetic_${i}.txt`), syntheticDocument(vocab, i, 40));
    const client = new pg.Client(db.url);
    await client.connect();
    try {
      await fake.deliver(fake.sendCommand(ADMIN, 'reindex'), a.url);
      await until(
        async () =>
          (
            await client.query(
              `SELECT count(*)::int AS n FROM cite_passages WHERE born IN (SELECT id FROM cite_generations WHERE state = 'building')`,
            )
          ).rows[0].n > 0,
        60_000,
      );
      a.child.kill('SIGKILL');
      await new Promise((r) => a.child.once('close', r));
    } finally {
      await client.end();
    }
    const u = user(504);
    expect((await ask(b, u, EXPELLED, (p) => p.includes('1948-1953'))).plain).toContain('1948-1953');
    const before = fake.messages.length;
    await fake.deliver(fake.sendCommand(ADMIN, 'reindex'), b.url);
    // Generous: under a loaded machine PGlite (one thread) writes 500 passages, their postings and the graph slowly.
    await fake.waitFor(
      () =>
        fake.messages
          .slice(before)
          .find((m) => m.chat_id === ADMIN.id && m.edits.some((e) => /synthetic_0\.txt/.test(e))),
      240_000,
    );
  }, 360_000);

  it('the database stopped: a short "temporarily unavailable", /healthz 503; restarted: answers again by itself', async () => {
    const u = user(505);
    await db.stop();
    const down = await ask(b, u, EXPELLED);
    expect(down.plain).toMatch(/^Temporarily unavailable, please try again in a minute\.$/);
    expect((await fetch(b.health)).status).toBe(503);
    await db.restart();
    await until(async () => (await fetch(b.health)).status === 200);
    expect((await ask(b, u, EXPELLED, (p) => p.includes('1948-1953'))).plain).toContain('1948-1953');
  }, 60_000);

  it('SIGTERM with an authenticated request still open: exits within the shutdown grace (8 s)', async () => {
    const socket = net.connect(Number(new URL(b.url).port), '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      `POST ${new URL(b.url).pathname} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nX-Telegram-Bot-Api-Secret-Token: ${SECRET}\r\n\r\n{"upd`,
    );
    await new Promise((r) => setTimeout(r, 200)); // the replica takes the request in
    const t0 = Date.now();
    const exited = new Promise<number | null>((r) => b.child.once('exit', (code) => r(code)));
    b.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(20_000); // it did not exit within 40 s before
    socket.destroy();
  }, 60_000);
});
