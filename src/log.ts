import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
 * The values no line may show (the bot token, the webhook secret, the database password), longest
 * first: config.ts registers them wherever a configuration arrives (loadConfig, the build worker).
 */
const secrets: string[] = [];

/**
 * Shorter values are hidden only as a URL's credentials: anywhere else "[redacted]" would eat
 * ordinary words (a password "pw"), and a secret that short is guessed anyway.
 */
const MIN_SECRET_LENGTH = 4;

export function hideInLogs(values: readonly (string | undefined)[]): void {
  for (const value of values) {
    if (!value || value.length < MIN_SECRET_LENGTH) continue;
    // As given, and as a JSON line spells it (a quote or backslash in a password is escaped there).
    for (const form of [value, JSON.stringify(value).slice(1, -1)]) if (!secrets.includes(form)) secrets.push(form);
  }
  secrets.sort((a, b) => b.length - a.length); // one secret inside another: the longer goes whole
}

/** `//user:password@` in any URL, whatever the password (a DATABASE_URL of another machine, a short one). */
const URL_CREDENTIALS = /(\/\/[^\s/?#@:"]*:)[^\s/?#@"]+@/g;

/**
 * An absolute path of two or more parts (`/srv/cite/src/x.ts:10:5`, `file:///…`), where a path starts
 * (after a space, a quote, a bracket or "="): URLs (`https://host/a/b`) and commands (`/reindex`) do not match.
 */
const ABSOLUTE_PATH = /(^|[\s'"(=])(?:file:\/\/)?(\/[^\s'"(),\\/]+\/[^\s'"(),\\]*)/g;

/** log.ts is in src/ or dist/: the project is its parent. */
const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
/** The project, and the working directory (a service's data), unless that is / (every path is inside it). */
const BASES = [...new Set([ROOT, process.cwd()])].filter((b) => b !== path.sep);

/**
 * A path as a line shows it: a package's from its node_modules on, else relative to the project or
 * the working directory, else only its last name (paths.ts's rule for messages, here for every line).
 */
function shownPath(p: string): string {
  const modules = p.lastIndexOf('/node_modules/');
  if (modules >= 0) return p.slice(modules + 1);
  for (const base of BASES) {
    const relative = path.relative(base, p);
    if (!relative.startsWith('..')) return relative || '.';
  }
  return path.basename(p);
}

/**
 * A written line without secrets or absolute paths, whatever field carries them (a message, any
 * field, an error's cause, a stack, a child logger's bindings). One pass over the finished line, a
 * few `includes` and one regex scan: no measurable cost on an ordinary line (~3 µs with or without),
 * a few µs more for a stack's paths.
 */
function scrub(line: string): string {
  for (const secret of secrets) if (line.includes(secret)) line = line.replaceAll(secret, '[redacted]');
  if (line.includes('@')) line = line.replace(URL_CREDENTIALS, '$1[redacted]@');
  return line.replace(ABSOLUTE_PATH, (_, before: string, p: string) => before + shownPath(p));
}

/** Fields of an error that say what went wrong (Node's, PostgreSQL's, Telegram's, this project's). */
const ERROR_FIELDS = ['code', 'errno', 'syscall', 'status', 'error_code', 'description', 'parameters', 'method'];
const MAX_CAUSES = 4;

/**
 * An error as a line shows it: type, message, the fields above, stack and causes; nothing else.
 * pino's own serializer writes every enumerable field: grammY's `payload` (the request sent, with
 * setWebhook's secret_token) or a BotError's whole context. The stack is kept (an unexpected
 * error's only clue to where it came from); scrub() leaves it without the server's paths.
 */
function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err; // a message logged as `err`: its text, scrubbed like any
  // The class (an IndexError names no `name`), unless the error names itself (node-fetch's FetchError).
  const type = err.name === 'Error' ? err.constructor.name : err.name;
  const shown: Record<string, unknown> = { type, message: err.message };
  const fields = err as unknown as Record<string, unknown>;
  for (const field of ERROR_FIELDS) if (fields[field] !== undefined) shown[field] = fields[field];
  shown.stack = err.stack;
  if (err instanceof AggregateError) shown.errors = err.errors.map((e) => serializeError(e, depth + 1));
  // grammY keeps the underlying error in `error` (HttpError: node-fetch's, BotError: the handler's).
  const cause = err.cause ?? fields.error;
  if (cause !== undefined && depth < MAX_CAUSES) shown.cause = serializeError(cause, depth + 1);
  return shown;
}

/**
 * Structured logs on stderr (stdout stays clean for `ask --json`), readable on a terminal, JSON
 * otherwise. Every line is scrubbed of secrets and absolute paths as it is written, so that no call
 * site can leak one; errors (`{ err }`, or one logged alone) show only what diagnoses them.
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
    serializers: { err: serializeError },
  },
  { write: (line: string) => destination.write(scrub(line)) },
);
