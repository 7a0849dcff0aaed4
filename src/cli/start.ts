import { GrammyError } from 'grammy';
import { ConfigError } from '../config.js';
import { Engine } from '../engine.js';
import { log } from '../log.js';
import { createBot } from '../telegram/bot.js';
import { registerCommands } from '../telegram/ui/commands.js';
import { consoleChat } from './chat.js';
import { noArguments, progressReporter, run } from './common.js';
import { closeAll, exitAfter, stopSignal } from './signals.js';
import { runWebhook } from './webhookMode.js';
import { serveViewer } from '../telegram/viewer/server.js';

// `npm start`: the Telegram bot, or the console chat when no token is configured.
await run(async (config) => {
  noArguments('Usage: npm start   (settings come from .env: see .env.example)');
  const token = config.TELEGRAM_BOT_TOKEN;
  if (!token) {
    // Said first: the model load and index build below may take a while (or fail offline).
    process.stderr.write(
      'No TELEGRAM_BOT_TOKEN set, so starting the console chat instead of the Telegram bot.\n' +
        'To run the bot: talk to @BotFather in Telegram, send /newbot, and put the token it gives you\n' +
        'into .env as TELEGRAM_BOT_TOKEN=... (see .env.example).\n\n',
    );
    const engine = await Engine.open(config, progressReporter());
    void engine.prepareReindex(); // `/reindex` then starts at once
    void engine.warmUp(); // the first questions then run on compiled code
    await consoleChat(engine);
    return;
  }
  const engine = await Engine.open(config, progressReporter()); // builds the index first if needed
  void engine.prepareReindex(); // an upload's re-index then starts at once
  void engine.warmUp(); // the first users' questions then run on compiled code
  const { bot, start, tellInterrupted, viewer } = createBot(engine, { ...config, TELEGRAM_BOT_TOKEN: token });
  // Network errors are retried without end (Telegram may be down when the machine boots): say so.
  const waiting = setInterval(
    () => log.warn(`still trying to reach the Telegram Bot API at ${config.TELEGRAM_API_ROOT}…`),
    15_000,
  );
  try {
    await bot.init();
  } catch (err) {
    throw new ConfigError(
      err instanceof GrammyError && err.error_code === 401
        ? 'Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized): check the token @BotFather gave you.'
        : `The Telegram Bot API at ${config.TELEGRAM_API_ROOT} failed: ${(err as Error).message}`,
    );
  } finally {
    clearInterval(waiting);
  }
  await registerCommands(bot.api);
  if (config.transport.kind === 'webhook') {
    void tellInterrupted();
    return runWebhook(bot, engine, config.transport, config, viewer);
  }
  const polling = start();
  // The document viewer needs an HTTP server of its own when no webhook brings one.
  const viewerServer = viewer ? await serveViewer(viewer, config.PORT) : undefined;
  log.info(`@${bot.botInfo.username} is online (${engine.manifest.chunkCount} passages indexed)`);
  let stopped: Promise<number> | undefined;
  void stopSignal().then((signal) => {
    log.info(`${signal}: finishing in-flight replies and stopping`);
    // Stops polling, lets the replies in flight finish (within the grace period) and confirms them to Telegram.
    stopped = polling.stop(config.SHUTDOWN_GRACE_SECONDS * 1000);
  });
  const failed = await polling.task()?.then(
    () => undefined,
    (err: unknown) => err ?? new Error('polling failed'),
  );
  if (stopped) await stopped;
  const closers = [() => viewerServer?.close(), () => engine.close()];
  if (failed === undefined) await exitAfter(...closers);
  // Polling failed for good (409: another instance polls with this token; 401: the token was
  // revoked). The replies in flight finish, then what would keep a process alive that answers
  // nobody (the viewer's server, the database pool) is closed: it exits 1 with the reason (said
  // by `run`), and a supervisor restarts it.
  await polling.idle(config.SHUTDOWN_GRACE_SECONDS * 1000);
  await closeAll(closers);
  throw failed;
});
