import { createRequire } from 'node:module';
import { isMainThread, workerData } from 'node:worker_threads';
import pino from 'pino';
import type prettyStream from 'pino-pretty';

/** The levels LOG_LEVEL may name (validated by the configuration). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Whether stderr is a terminal. A worker thread's process.stderr is a pipe to the main thread, so
 * the index build worker is told by its parent (buildInWorker passes `stderrIsTTY`).
 */
export const stderrIsTTY: boolean = isMainThread
  ? process.stderr.isTTY === true
  : (workerData as { stderrIsTTY?: boolean } | null)?.stderrIsTTY === true;

/** pino-pretty, loaded only for a terminal (a service's logs are JSON: it cost every start ~40 ms). */
const pretty = () => createRequire(import.meta.url)('pino-pretty') as typeof prettyStream;

/**
 * Structured logs on stderr (stdout stays clean for `ask --json`), readable on a terminal, JSON
 * otherwise. Tokens are never logged: the redaction covers any field named token.
 */
const destination = stderrIsTTY
  ? pretty()({ destination: 2, sync: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' })
  : pino.destination({ fd: 2, sync: true });

export const log = pino(
  {
    // Read before the configuration is validated: an invalid value is reported by loadConfig, not by a pino crash.
    level: (LOG_LEVELS as readonly string[]).includes(process.env.LOG_LEVEL?.toLowerCase() ?? '')
      ? process.env.LOG_LEVEL!.toLowerCase()
      : 'info',
    redact: { paths: ['token', '*.token', 'config.TELEGRAM_BOT_TOKEN'], censor: '[redacted]' },
  },
  destination,
);
