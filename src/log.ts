import pino from 'pino';
import pretty from 'pino-pretty';

/**
 * Structured logs on stderr (stdout stays clean for `ask --json`), readable on a terminal, JSON
 * otherwise. Tokens are never logged: the redaction covers any field named token.
 */
const destination = process.stderr.isTTY
  ? pretty({ destination: 2, sync: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' })
  : pino.destination({ fd: 2, sync: true });

export const log = pino(
  {
    level: process.env.LOG_LEVEL ?? 'info',
    redact: { paths: ['token', '*.token', 'config.TELEGRAM_BOT_TOKEN'], censor: '[redacted]' },
  },
  destination,
);
