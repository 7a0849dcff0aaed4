import http from 'node:http';
import { BotError, webhookCallback, type Bot } from 'grammy';
import { log } from '../log.js';
import { ALLOWED_UPDATES } from './bot.js';

export interface WebhookOptions {
  /** The public URL Telegram posts updates to; its path is the one served here. */
  url: string;
  /** Telegram sends it in X-Telegram-Bot-Api-Secret-Token; a request without it gets 401 and does nothing. */
  secret: string;
  port: number;
  /** For `/healthz`: whether this replica can answer (its database is reachable). */
  healthy: () => Promise<boolean>;
  /** Other routes served beside the webhook (the document viewer); returns false for a path it does not serve. */
  also?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
}

/** Telegram waits about a minute for a webhook reply; answering the request earlier avoids redeliveries. */
const REPLY_WITHIN_MS = 50_000;

/**
 * Webhook mode, for several replicas behind a load balancer: node's http server with grammY's
 * webhookCallback on the URL's path, `GET /healthz` for the balancer, 404 for anything else.
 * Registers the URL (with the secret) with Telegram. Resolves once listening.
 */
export async function serveWebhook(bot: Bot, options: WebhookOptions): Promise<{ server: http.Server; stop: () => Promise<void> }> {
  const path = new URL(options.url).pathname;
  const handle = webhookCallback(bot, 'http', { secretToken: options.secret, onTimeout: 'return', timeoutMilliseconds: REPLY_WITHIN_MS });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://replica');
    if (req.method === 'GET' && url.pathname === '/healthz') return void health(options.healthy, res);
    if (url.pathname !== path && options.also?.(req, res)) return;
    if (req.method === 'POST' && url.pathname === path) {
      return void handle(req, res).catch(async (err: unknown) => {
        // A handler failed: the bot's error handler tells the user (as in polling mode), and the
        // update counts as delivered — Telegram redelivering it would only fail again.
        if (err instanceof BotError) await bot.errorHandler(err);
        else log.error({ err }, 'webhook request failed');
        if (!res.headersSent) res.writeHead(err instanceof BotError ? 200 : 400).end();
      });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port, resolve));
  await bot.api.setWebhook(options.url, { secret_token: options.secret, allowed_updates: [...ALLOWED_UPDATES] });
  log.info(`webhook: serving ${path} on port ${(server.address() as { port: number }).port}`);
  return {
    server,
    // Stops taking updates, lets the ones in flight finish.
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function health(healthy: () => Promise<boolean>, res: http.ServerResponse): Promise<void> {
  const ok = await healthy().catch(() => false);
  res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok\n' : 'unavailable\n');
}
