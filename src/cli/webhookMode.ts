import type { Bot } from 'grammy';
import type { Config, WebhookChoice } from '../config.js';
import type { Engine } from '../engine.js';
import { log } from '../log.js';
import { serveWebhook } from '../telegram/delivery/webhook.js';
import { exitAfter, stopSignal } from './signals.js';
import type { Viewer } from '../telegram/viewer/server.js';

/** `npm start` with WEBHOOK_URL: updates arrive by webhook until SIGINT/SIGTERM. */
export async function runWebhook(
  bot: Bot,
  engine: Engine,
  webhook: WebhookChoice,
  config: Config,
  viewer?: Viewer,
): Promise<void> {
  const healthy = async () => {
    await engine.storage.check();
    return true;
  };
  // An update posted twice (to two replicas sharing a storage, too) is answered once.
  const claims = engine.storage.openUpdateClaims();
  const server = await serveWebhook(bot, {
    url: webhook.url,
    secret: webhook.secret,
    port: config.PORT,
    healthy,
    claims,
    ...(viewer ? { also: (req, res) => viewer.handle(req, res) } : {}),
  });
  log.info(`@${bot.botInfo.username} is online by webhook (${engine.manifest.chunkCount} passages indexed)`);
  const signal = await stopSignal();
  log.info(`${signal}: finishing in-flight replies and stopping`);
  // The same grace as polling mode.
  await server.stop(config.SHUTDOWN_GRACE_SECONDS * 1000);
  await exitAfter(() => engine.close());
}
