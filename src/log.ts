import pino from 'pino';

/** Structured logs go to stderr so stdout stays clean for `ask --json`. Tokens are never logged. */
export const log = pino(
  {
    level: process.env.LOG_LEVEL ?? 'info',
    redact: { paths: ['token', '*.token', 'config.TELEGRAM_BOT_TOKEN'], censor: '[redacted]' },
  },
  pino.destination({ fd: 2, sync: true }),
);
