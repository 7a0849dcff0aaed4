/**
 * Webhook mode without a database (issue 19 item 7): an update posted twice is answered once, a
 * large body is refused before it is read, and a stop with an authenticated request still open
 * ends within the grace period; a malformed request or a failing route does not end the process;
 * Telegram refusing the webhook leaves nothing listening. Across replicas (PostgreSQL): tests/replicas.test.ts.
 */
import http from 'node:http';
import net from 'node:net';
import { Bot } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, serveWebhook, type Webhook } from '../src/telegram/delivery/webhook.js';
import { childServer, rawRequest } from './support/childServer.js';
import { FakeBotApi } from './support/fakeBotApi.js';

const SECRET = 'hook-secret_42';
let fake: FakeBotApi;
let hook: Webhook;
let url: string;
let handled: number[];

beforeEach(async () => {
  fake = await FakeBotApi.start();
  const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
  handled = [];
  bot.on('message', async (ctx) => {
    handled.push(ctx.update.update_id);
    await new Promise((r) => setTimeout(r, 50)); // a reply takes a while: a second post comes meanwhile
    await ctx.reply('answer');
  });
  await bot.init();
  url = 'http://127.0.0.1:0/telegram'; // the port is chosen by the system; the path is what counts
  hook = await serveWebhook(bot, { url, secret: SECRET, port: 0, healthy: async () => true });
  url = `http://127.0.0.1:${(hook.server.address() as net.AddressInfo).port}/telegram`;
});

afterEach(async () => {
  await hook.stop(0);
  await fake.stop();
});

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': SECRET, ...headers },
    body,
  }).then(async (r) => (await r.arrayBuffer(), r.status));

describe('webhook', () => {
  it('answers an update posted twice (one after the other, or at once) only once', async () => {
    const update = JSON.stringify(fake.sendText({ id: 5 }, 'hello'));
    expect(await post(update)).toBe(200);
    expect(await post(update)).toBe(200); // Telegram posting it again: acknowledged, not handled
    const twin = JSON.stringify(fake.sendText({ id: 6 }, 'hello'));
    expect(await Promise.all([post(twin), post(twin)])).toEqual([200, 200]);
    expect(handled).toHaveLength(2);
    expect(fake.messages.map((m) => m.chat_id)).toEqual([5, 6]);
  });

  it('refuses a body over the limit with 413 without reading it, and one that is not an update with 400', async () => {
    // The status of a raw POST, read as soon as it comes (the server may cut the rest of the upload).
    const rawPost = (headers: Record<string, string>, send: (req: http.ClientRequest) => void) =>
      new Promise<number>((resolve) => {
        const req = http.request(
          url,
          { method: 'POST', headers: { 'X-Telegram-Bot-Api-Secret-Token': SECRET, ...headers } },
          (res) => resolve(res.statusCode!),
        );
        req.on('error', () => resolve(-1)); // only if no answer came first
        send(req);
      });
    expect(
      await rawPost({ 'Content-Length': String(MAX_BODY_BYTES + 1) }, (req) => req.end(' '.repeat(MAX_BODY_BYTES + 1))),
    ).toBe(413);
    expect(await post('{"not": "an update"}')).toBe(400);
    // Announced as 100 MB and never sent: refused at once (it used to be collected, +270 MB RSS).
    expect(await rawPost({ 'Content-Length': String(100 * 1024 * 1024) }, (req) => req.write('{"update_id":'))).toBe(
      413,
    );
    // Without Content-Length (chunked): cut once the limit is passed.
    const piece = Buffer.alloc(64 * 1024, 0x20);
    const chunked = await rawPost({}, (req) => {
      const write = (): void => {
        if (req.destroyed) return;
        if (req.write(piece)) setImmediate(write);
        else req.once('drain', write);
      };
      write();
    });
    expect(chunked).toBe(413);
    expect(await post('{}', { 'X-Telegram-Bot-Api-Secret-Token': 'wrong' })).toBe(401);
    expect(handled).toEqual([]);
  });

  it('stops within the grace period while an authenticated request is still open', async () => {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    // Headers and the start of a body, then nothing: a request that never ends.
    socket.write(
      `POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nX-Telegram-Bot-Api-Secret-Token: ${SECRET}\r\n\r\n{"upd`,
    );
    socket.on('error', () => {});
    await new Promise((r) => setTimeout(r, 100)); // let the server take the request in
    const t0 = performance.now();
    const unfinished = await hook.stop(500);
    expect(performance.now() - t0).toBeLessThan(5000); // it never stopped before
    expect(unfinished).toBe(1);
    socket.destroy();
  });

  it('a stop waits for a reply still being sent after its request was answered (Telegram will not post that update again)', async () => {
    const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
    bot.on('message', async (ctx) => {
      await new Promise((r) => setTimeout(r, 300)); // a reply waiting out a retry, past replyWithinMs
      await ctx.reply('late answer');
    });
    await bot.init();
    const slow = await serveWebhook(bot, {
      url,
      secret: SECRET,
      port: 0,
      healthy: async () => true,
      replyWithinMs: 20,
    });
    const port = (slow.server.address() as net.AddressInfo).port;
    const status = await fetch(url.replace(/:\d+\//, `:${port}/`), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': SECRET },
      body: JSON.stringify(fake.sendText({ id: 9 }, 'hello')),
    }).then((r) => r.status);
    expect(status).toBe(200); // acknowledged while the reply is still on its way
    await slow.stop(5000);
    expect(fake.messages.map((m) => m.plain)).toEqual(['late answer']); // sent before the stop returned
  });

  it('a request target that is no URL gets 400 and a route that throws 500; the process keeps serving', async () => {
    // Its own process: a throw escaping the request listener used to end it (exit 1).
    const child = await childServer(
      `import { serveWebhook } from './src/telegram/delivery/webhook.ts';
      const bot = { api: { setWebhook: async () => true } };
      const also = (req) => { if (req.url === '/boom') throw new Error('detail-from-the-route'); return false; };
      const hook = await serveWebhook(bot, { url: 'https://x/hook', secret: 's', port: 0, healthy: async () => true, also });
      process.stdout.write('PORT ' + hook.server.address().port + '\\n');`,
      { LOG_LEVEL: 'error' },
    );
    const get = (target: string) =>
      Promise.race([
        rawRequest(child.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
        child.exited.then((code) => `exited: ${code}`),
      ]);
    expect(await get('http://[')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await get('/boom')).toMatch(/^HTTP\/1\.1 500 /);
    expect(await get('/healthz')).toMatch(/^HTTP\/1\.1 200 /);
    expect(child.stderr()).toContain('request failed');
    expect(child.stderr()).not.toContain('detail-from-the-route');
    await child.stop();
  });

  it('Telegram refusing setWebhook: serveWebhook rejects with its error and leaves nothing listening', async () => {
    // A free port, known beforehand (serveWebhook resolves with its server only on success).
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    fake.failNext('setWebhook', {
      kind: 'error',
      code: 400,
      description: 'Bad Request: bad webhook: Failed to resolve host',
    });
    const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
    await expect(
      serveWebhook(bot, { url: 'https://bot.example.invalid/hook', secret: SECRET, port, healthy: async () => true }),
    ).rejects.toThrow('bad webhook');
    // It kept answering /healthz (200) and kept the process from exiting.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
