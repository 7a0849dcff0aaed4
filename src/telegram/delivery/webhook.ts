import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { BotError, type Bot } from 'grammy';
import type { Update } from 'grammy/types';
import { log } from '../../log.js';
import { MemoryClaims, type UpdateClaims } from '../../db/updateClaims.js';
import { guarded, requestUrl } from './requests.js';
import { ALLOWED_UPDATES } from './updates.js';

export interface WebhookOptions {
  /** The public URL Telegram posts updates to; its path is the one served here. */
  url: string;
  /** Telegram sends it in X-Telegram-Bot-Api-Secret-Token; a request without it gets 401 and does nothing. */
  secret: string;
  port: number;
  /** For `/healthz`: whether this replica can answer (its database is reachable). */
  healthy: () => Promise<boolean>;
  /** Which updates were handled already (by any replica, with PgUpdateClaims); default: this process's memory. */
  claims?: UpdateClaims;
  /** Other routes served beside the webhook (the document viewer); returns false for a path it does not serve. */
  also?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  /** Telegram's request is answered after this long even when the reply is still being retried. */
  replyWithinMs?: number;
}

export interface Webhook {
  server: http.Server;
  /**
   * Stops taking updates and lets the requests open and the replies in flight finish, at most
   * `graceMs` (as polling mode does); then cuts what is left — Telegram posts again the updates
   * whose request was still open. Resolves with how many requests were.
   */
  stop: (graceMs?: number) => Promise<number>;
}

/** Telegram waits about a minute for a webhook reply; answering the request earlier avoids redeliveries. */
const REPLY_WITHIN_MS = 50_000;
/** An update is a few KB (a message of 4,096 characters with entities); a larger body is refused unread. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** A request whose body has not arrived by then is cut (Telegram sends it at once). */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Webhook mode, for several replicas behind a load balancer: node's http server takes Telegram's
 * POSTs on the URL's path (secret checked, body at most MAX_BODY_BYTES, each update handled once),
 * `GET /healthz` for the balancer, 404 for anything else. Registers the URL (with the secret)
 * with Telegram. Resolves once listening.
 */
export async function serveWebhook(bot: Bot, options: WebhookOptions): Promise<Webhook> {
  const path = new URL(options.url).pathname;
  const claims = options.claims ?? new MemoryClaims();
  const open = new Set<Promise<void>>(); // webhook requests being received or handled
  const handling: Handling = new Map(); // their updates, once claimed
  const receive = receiver(bot, options, claims, handling);
  const route = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = requestUrl(req, res, 'http://replica');
    if (!url) return;
    if (req.method === 'GET' && url.pathname === '/healthz') return void health(options.healthy, res);
    if (url.pathname !== path && options.also?.(req, res)) return;
    if (req.method === 'POST' && url.pathname === path) {
      const request = receive(req, res).catch((err: unknown) => {
        log.error({ err }, 'webhook request failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
      open.add(request);
      return void request.finally(() => open.delete(request));
    }
    res.writeHead(404).end();
  };
  const server = http.createServer(guarded('webhook', route));
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  // Listening first: Telegram may post as soon as the webhook is set.
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port, resolve));
  try {
    await bot.api.setWebhook(options.url, { secret_token: options.secret, allowed_updates: [...ALLOWED_UPDATES] });
  } catch (err) {
    // Left open, the server kept the process from exiting and /healthz answering 200 for a replica Telegram posts nothing to.
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
    throw err;
  }
  log.info(`webhook: serving ${path} on port ${(server.address() as { port: number }).port}`);
  return {
    server,
    async stop(graceMs = Infinity) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // The replies too: one whose request was answered already (replyWithinMs) is not posted again.
      const replies = [...handling.values()].map((h) => h.done);
      await Promise.race([Promise.allSettled([...open, ...replies]), delay(graceMs)]);
      const unfinished = [...handling.keys()];
      // Given back, so that the replica Telegram posts them to next handles them at once.
      await Promise.allSettled(unfinished.map((id) => claims.release(id)));
      if (open.size)
        log.warn({ unfinished: open.size }, 'stopped with webhook requests unfinished: Telegram posts them again');
      const lost = [...handling.values()].filter((h) => h.acknowledged).length;
      if (lost)
        log.warn({ lost }, 'stopped with replies unfinished whose update Telegram was told was received: not answered');
      const left = open.size;
      server.closeAllConnections();
      await closed;
      return left;
    },
  };
}

/** The updates being handled, by id; `acknowledged`: Telegram's request was answered already. */
type Handling = Map<number, { done: Promise<void>; acknowledged: boolean }>;

/** Handles one POST from Telegram: 401 without the secret, 413 for a large body, 400 for one that is not an update. */
function receiver(
  bot: Bot,
  { secret, replyWithinMs = REPLY_WITHIN_MS }: WebhookOptions,
  claims: UpdateClaims,
  handling: Handling,
) {
  const expected = Buffer.from(secret);
  const authentic = (header: string | string[] | undefined) => {
    const given = Buffer.from(typeof header === 'string' ? header : '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (!authentic(req.headers['x-telegram-bot-api-secret-token'])) return refuse(req, res, 401);
    const body =
      Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES ? undefined : await readBody(req, MAX_BODY_BYTES);
    if (body === undefined) return refuse(req, res, 413);
    const update = parseUpdate(body);
    if (!update) return void res.writeHead(400).end();
    // The database unreachable: handled anyway (the user hears "temporarily unavailable" at least),
    // at the risk of a second answer if Telegram posts it again meanwhile.
    const claim = await claims
      .claim(update.update_id)
      .catch(
        (err: unknown) => (
          log.warn({ err, update: update.update_id }, 'could not claim a webhook update: handled unclaimed'),
          'mine' as const
        ),
      );
    if (claim !== 'mine') return void res.writeHead(claim === 'handled' ? 200 : 503).end();
    const handled = handle(bot, update).finally(async () => {
      handling.delete(update.update_id);
      await claims
        .finish(update.update_id)
        .catch((err: unknown) => log.warn({ err, update: update.update_id }, 'could not record a handled update'));
    });
    const handlingIt = { done: handled, acknowledged: false };
    handling.set(update.update_id, handlingIt);
    // Telegram waits about a minute: answered before that even when the reply is still being retried.
    await Promise.race([handled, delay(replyWithinMs)]);
    handlingIt.acknowledged = true;
    if (!res.headersSent) res.writeHead(200).end();
  };
}

/** Runs the bot on the update; a failed handler is told to the user by the bot's error handler, as in polling mode. */
async function handle(bot: Bot, update: Update): Promise<void> {
  try {
    await bot.handleUpdate(update);
  } catch (err) {
    if (!(err instanceof BotError)) return void log.error({ err, update: update.update_id }, 'update failed');
    try {
      await bot.errorHandler(err);
    } catch (e) {
      log.error({ err: e }, 'the error handler failed');
    }
  }
}

/** The body as text, or undefined once it passes `max` bytes (the rest is not read). */
function readBody(req: http.IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) return void chunks.push(chunk);
      req.off('data', onData);
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

function parseUpdate(body: string): Update | undefined {
  try {
    const update = JSON.parse(body) as Update;
    return Number.isSafeInteger(update?.update_id) ? update : undefined;
  } catch {
    return undefined;
  }
}

/** How long a refused request's connection stays open, so the client reads the answer before it is cut. */
const LINGER_MS = 1000;

/** Answers `status` and closes the connection soon, discarding (never keeping) what is left of the body. */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, status: number): void {
  req.resume();
  res.writeHead(status, { Connection: 'close' }).end(() => setTimeout(() => req.destroy(), LINGER_MS).unref());
}

const delay = (ms: number) =>
  new Promise<void>((resolve) => (Number.isFinite(ms) ? setTimeout(resolve, ms).unref() : undefined));

async function health(healthy: () => Promise<boolean>, res: http.ServerResponse): Promise<void> {
  const ok = await healthy().catch(() => false);
  res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok\n' : 'unavailable\n');
}
