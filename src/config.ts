import { z } from 'zod';
import { hideInLogs, LOG_LEVELS } from './log.js';

const int = (min: number, fallback: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int(`must be a whole number ≥ ${min}`)
    .min(min, `must be a whole number ≥ ${min}`)
    .default(fallback);

/** A comma-separated list of numeric Telegram ids. */
const ids = (message: string, pattern = /^\d+$/) =>
  z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(pattern, message).transform(Number)));

/** Settings where an empty value is a value (a model without e5 prefixes); elsewhere empty = default. */
const EMPTY_IS_A_VALUE = new Set(['QUERY_PREFIX', 'PASSAGE_PREFIX']);

/** Every setting comes from the environment (or .env); see .env.example. */
const settings = z.object({
  TELEGRAM_BOT_TOKEN: z
    .string()
    .trim()
    .regex(/^\d+:[\w-]{20,}$/, 'looks like 123456789:AA... (get one from @BotFather)')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  TELEGRAM_API_ROOT: z.string().url().default('https://api.telegram.org'),
  ADMIN_IDS: ids('must be numeric Telegram user ids, comma-separated'),
  /**
   * Who may ask: empty (the default) = everyone. Otherwise only these users, and anyone in these
   * chats (group ids are negative); admins always, and admins allow or revoke more from the chat.
   */
  ALLOWED_USERS: ids('must be numeric Telegram user ids, comma-separated'),
  ALLOWED_CHATS: ids('must be numeric Telegram chat ids (groups are negative), comma-separated', /^-?\d+$/),
  SEEDS_DIR: z.string().default('seeds'),
  /** Larger documents are skipped with a warning: embedding them would take hours on a CPU. */
  DOC_MAX_BYTES: int(1, 2_000_000),
  /**
   * What reading one document may cost (each document is read in a worker thread, so one over a
   * limit is skipped with the reason and nothing else is harmed): a DOCX may unpack to this many
   * bytes, a document give this many characters of text, take this many seconds, and the reader
   * this much JavaScript heap. Sized for a 2-core server with little memory (docs/formats.md).
   */
  DOC_MAX_UNPACKED_BYTES: int(1024, 20 * 1024 * 1024),
  DOC_MAX_TEXT_CHARS: int(1, 4_000_000),
  DOC_READ_SECONDS: int(1, 60),
  DOC_READ_MEMORY_MB: int(64, 512),
  INDEX_DIR: z.string().default('index'),
  EMBED_MODEL: z.string().min(1).default('Xenova/multilingual-e5-small'),
  EMBED_DTYPE: z.enum(['auto', 'fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4']).default('auto'),
  EMBED_LOCAL_DIR: z.string().optional(),
  /** The hub revision (commit id) of EMBED_MODEL; unset: the one pinned for the default model, else main. */
  EMBED_REVISION: z
    .string()
    .regex(/^[\w.-]+$/, 'must be a commit id, tag or branch name')
    .optional(),
  EMBED_CACHE_DIR: z.string().default('models'),
  EMBED_ALLOW_DOWNLOAD: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  EMBED_BATCH: int(1, 16),
  QUERY_PREFIX: z.string().default('query: '),
  PASSAGE_PREFIX: z.string().default('passage: '),
  /**
   * Up to this many passages the vectors are searched exhaustively: exact, and at 384 dimensions
   * only a few milliseconds (see the benchmark); beyond it HNSW, whose cost barely grows.
   */
  EXACT_SEARCH_MAX: int(0, 10_000),
  /** 32, not hnswlib's usual 16: on the product's own vectors 16 needs efSearch > 1,600 for recall@10 0.92 (docs/benchmark.md). */
  HNSW_M: int(2, 32),
  HNSW_EF_CONSTRUCTION: int(10, 200),
  /** Unset: the smallest efSearch reaching recall@10 ≥ 0.95 on the index's own vectors, measured at build. */
  HNSW_EF_SEARCH: z.coerce.number().int().min(10).optional(),
  TOP_K: int(1, 3),
  /**
   * "The documents do not answer" unless a top passage reaches one of the two gates (docs/answers.md, "The gates,
   * measured for the model"). The dense one is a cosine: unset, the gate measured for the model at index time
   * (index/calibration.ts); set, it overrides that.
   */
  DENSE_THRESHOLD: z.coerce
    .number({ message: 'must be a number' })
    .min(-1, 'must be between -1 and 1')
    .max(1, 'must be between -1 and 1')
    .optional(),
  /** The lexical gate: the share of the question's rare words a passage must contain (model-independent). */
  LEXICAL_THRESHOLD: z.coerce
    .number({ message: 'must be a number' })
    .min(0, 'must be between 0 and 1')
    .max(1, 'must be between 0 and 1')
    .default(0.25),
  MAX_QUESTION_CHARS: int(20, 1000),
  RATE_LIMIT_PER_MINUTE: int(1, 20),
  /** A question sent longer ago than this is not answered: the user is told the bot is behind (0: always answered). */
  BEHIND_SECONDS: int(0, 60),
  /** How long a reply keeps being retried (Telegram's flood control, 5xx, network) before the user gets an apology. */
  DELIVERY_BUDGET_SECONDS: int(1, 300),
  /** On SIGTERM/SIGINT, how long the replies being sent may take before the bot exits (what is unfinished is delivered again at the next start). */
  SHUTDOWN_GRACE_SECONDS: int(0, 8),
  /** postgres://…: the index (and what bot replicas share) lives in PostgreSQL with pgvector instead of INDEX_DIR (`store`). */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** Set: the bot receives updates by webhook at this URL (its path is served on PORT) instead of long polling (`transport`). */
  WEBHOOK_URL: z.string().url().optional(),
  /**
   * Telegram sends it in X-Telegram-Bot-Api-Secret-Token; any other request is refused (1-256 of A-Z a-z 0-9 _ -).
   * Required with WEBHOOK_URL; without it, unused (one .env may serve the webhook bot and `npm run index`).
   */
  WEBHOOK_SECRET: z
    .string()
    .regex(/^[\w-]{1,256}$/, 'must be 1-256 characters of A-Z, a-z, 0-9, _ and -')
    .optional(),
  PORT: int(0, 8080),
  /**
   * The document viewer's public https base (a Telegram Mini App served on PORT, beside the webhook
   * or alone in polling mode); unset, answers have no "Open in document" button. docs/viewer.md.
   */
  VIEWER_URL: z
    .string()
    .url()
    .refine(
      (u) => /^https:\/\//.test(u) || /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/.test(u),
      'must be an https:// URL (Telegram opens Mini Apps over https only; http only on 127.0.0.1 for tests)',
    )
    .optional(),
  /** How long a signed viewer link (in groups and inline messages, where Telegram gives no initData) works. */
  VIEWER_LINK_HOURS: int(1, 7 * 24),
  LOG_LEVEL: z.preprocess(
    (v) => (typeof v === 'string' ? v.toLowerCase() : v),
    z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  ),
});

/** Where the index, the desk and what replicas share are kept (storage/storage.ts opens it). */
export type StoreChoice =
  /** Build folders in INDEX_DIR, the desk beside them, the rest in this process's memory. */
  | { kind: 'file' }
  /** PostgreSQL with pgvector at DATABASE_URL, shared by every replica. */
  | { kind: 'postgres'; url: string };

/** How updates reach `npm start`: the bot asks Telegram for them, or Telegram posts them to the webhook. */
export type TransportChoice = { kind: 'polling' } | WebhookChoice;
export type WebhookChoice = { kind: 'webhook'; url: string; secret: string };

/** The settings that make up a choice: the config carries the choice (`store`, `transport`) instead. */
type ChoiceSettings = 'DATABASE_URL' | 'WEBHOOK_URL' | 'WEBHOOK_SECRET';

export type Config = Omit<z.infer<typeof settings>, ChoiceSettings> & {
  store: StoreChoice;
  transport: TransportChoice;
};

/** Settings whose values are credentials: a message names them, never shows them. */
const SECRETS = new Set(['TELEGRAM_BOT_TOKEN', 'WEBHOOK_SECRET', 'DATABASE_URL']);

/**
 * The credentials' values (the database password as written in the URL and decoded): log.ts writes
 * "[redacted]" in their place. What is derived from them stays out of the logs by itself (the viewer's
 * link key is a private Buffer, a hashed user id is meant to be shown).
 */
export function secretsOf(config: Config): string[] {
  const secrets = [config.TELEGRAM_BOT_TOKEN ?? ''];
  if (config.transport.kind === 'webhook') secrets.push(config.transport.secret);
  if (config.store.kind === 'postgres') {
    try {
      const { password } = new URL(config.store.url); // (URL.parse is newer than Node 20.0)
      secrets.push(password, decodeURIComponent(password));
    } catch {} // not a URL, or a stray % in the password: then a URL's credentials are still hidden (log.ts)
  }
  return secrets;
}

/** A check of two settings runs once both parsed: one bad value is one line, not two. */
const bothParsed =
  (...names: string[]) =>
  (payload: z.core.ParsePayload) =>
    !payload.issues.some((i) => names.includes(String(i.path?.[0])));

const schema = settings
  .refine((s) => !s.WEBHOOK_URL || s.WEBHOOK_SECRET, {
    path: ['WEBHOOK_SECRET'],
    message: 'required with WEBHOOK_URL, so that only Telegram can post updates (e.g. `openssl rand -hex 32`)',
    when: bothParsed('WEBHOOK_URL', 'WEBHOOK_SECRET'),
  })
  .transform(
    ({ DATABASE_URL, WEBHOOK_URL, WEBHOOK_SECRET, ...rest }): Config => ({
      ...rest,
      store: DATABASE_URL ? { kind: 'postgres', url: DATABASE_URL } : { kind: 'file' },
      transport:
        WEBHOOK_URL && WEBHOOK_SECRET
          ? { kind: 'webhook', url: WEBHOOK_URL, secret: WEBHOOK_SECRET }
          : { kind: 'polling' },
    }),
  );

/** Every setting's name, in the schema's order (docs/configuration.md lists them). */
export const SETTINGS = Object.keys(settings.shape) as (keyof typeof settings.shape)[];

/** Each setting's default (undefined: unset unless given), as docs/configuration.md shows them. */
export const settingDefaults = (): Record<string, unknown> => settings.parse({});

export class ConfigError extends Error {}

/** Validates the environment; every bad value is named in one message. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // `TOP_K=` in .env means "not set": the default, never 0 (z.coerce would make '' a 0).
  const given = Object.fromEntries(
    Object.entries(source).filter(([k, v]) => v !== undefined && (v.trim() !== '' || EMPTY_IS_A_VALUE.has(k))),
  );
  const result = schema.safeParse(given);
  if (result.success) {
    hideInLogs(secretsOf(result.data)); // from now on no log line shows them
    return result.data;
  }
  const lines = result.error.issues.map(
    (i) => `  ${shownSetting(String(i.path[0]), given[String(i.path[0])])}: ${i.message}`,
  );
  throw new ConfigError(`Invalid configuration (environment or .env):\n${lines.join('\n')}`);
}

/** `NAME="value"`, or without the value: one not set, or a credential. */
function shownSetting(name: string, value: string | undefined): string {
  if (value === undefined) return `${name} (not set)`;
  return SECRETS.has(name) ? `${name} (value not shown)` : `${name}=${JSON.stringify(value)}`;
}

/**
 * The environment a child process opens the same index and store with: every string or number
 * setting, and the choices as the settings that make them (a child may be another checkout's code).
 */
export function childEnvironment(config: Config): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) if (typeof v === 'string' || typeof v === 'number') env[k] = String(v);
  if (config.store.kind === 'postgres') env.DATABASE_URL = config.store.url;
  if (config.transport.kind === 'webhook') {
    env.WEBHOOK_URL = config.transport.url;
    env.WEBHOOK_SECRET = config.transport.secret;
  }
  return env;
}

export function embedderOptions(config: Config) {
  return {
    model: config.EMBED_MODEL,
    cacheDir: config.EMBED_CACHE_DIR,
    localDir: config.EMBED_LOCAL_DIR,
    revision: config.EMBED_REVISION,
    dtype: config.EMBED_DTYPE,
    batchSize: config.EMBED_BATCH,
    allowRemote: config.EMBED_ALLOW_DOWNLOAD,
    queryPrefix: config.QUERY_PREFIX,
    passagePrefix: config.PASSAGE_PREFIX,
  };
}
