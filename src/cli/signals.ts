import { log } from '../log.js';

/**
 * The first SIGINT or SIGTERM, in polling and webhook mode alike. The handlers are `once`: the same
 * signal a second time meets Node's default handler and exits at once.
 */
export function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/**
 * After the replies in flight finished (or the grace period ran out): closes what is open (the
 * engine's database connections, the viewer's server) and exits. Replies still waiting to be
 * retried would keep the process alive; Telegram delivers their updates again at the next start.
 */
export async function exitAfter(...closers: (() => unknown)[]): Promise<never> {
  await closeAll(closers);
  log.info('stopped');
  process.exit();
}

/** Runs each closer in turn; one that fails is logged and the others still run. */
export async function closeAll(closers: (() => unknown)[]): Promise<void> {
  for (const close of closers) {
    try {
      await close();
    } catch (err) {
      log.warn({ err }, 'closing on the way out failed');
    }
  }
}
