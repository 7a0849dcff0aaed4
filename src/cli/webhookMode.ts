import type { Bot } from 'grammy';
import { ConfigError, type Config } from '../config.js';
import type { Engine } from '../engine.js';
import { log } from '../log.js';
import { serveWebhook } from '../telegram/delivery/webhook.js';
import { exitAfter, stopSignal } from './signals.js';
import type { Viewer } from '../telegram/viewer/server.js';

/** `npm start` with WEBHOOK_URL: updates arrive by webhook until SIGINT/SIGTERM. */
export async function runWebhook(bot: Bot, engine: Engine, config: Config, viewer?: Viewer): Promise<void> {
  if (!config.WEBHOOK_SECRET)
    throw new ConfigError(
      'WEBHOOK_URL is set but WEBHOOK_SECRET is not: set it, so that only Telegram can post updates.',
    );
  const healthy = async () => {
    await engine.storage.check();
    return true;
  };
  // An update posted twice (to two replicas sharing a storage, too) is answered once.
  const claims = engine.storage.openUpdateClaims();
  const webhook = await serveWebhook(bot, {
    url: config.WEBHOOK_URL!,
    secret: config.WEBHOOK_SECRET,
    port: config.PORT,
    healthy,
    claims,
    ...(viewer ? { also: (req, res) => viewer.handle(req, res) } : {}),
  });
  log.info(`@${bot.botInfo.username} is online by webhook (${engine.manifest.chunkCount} passages indexed)`);
  const signal = await stopSignal();
  log.info(`${signal}: finishing in-flight replies and stopping`);
  // The same grace as polling mode.
  await webhook.stop(config.SHUTDOWN_GRACE_SECONDS * 1000);
  await exitAfter(() => engine.close());
}
