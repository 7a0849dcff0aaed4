/**
 * A fake Telegram Bot API server for tests. A real grammY bot talks to it over
 * HTTP (`new Bot(token, { client: { apiRoot: fake.apiRoot } })`), so the whole
 * client stack — transformers like auto-retry, error classes, long polling —
 * runs exactly as in production. Tests feed updates in and assert on what the
 * bot sent. It rejects what Telegram rejects (bad HTML, too long, unchanged
 * edits, oversized callback data), because those are the failures that only
 * show up in production otherwise.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MessageEntity, Update } from 'grammy/types';

export interface SentMessage {
  message_id: number;
  chat_id: number;
  text: string; // current text exactly as the bot sent it (markup included), edits applied
  plain: string; // current text as the user sees it: tags removed, HTML entities decoded
  entities: MessageEntity[];
  parse_mode?: string;
  reply_markup?: any;
  reply_to_message_id?: number;
  /** The forum topic it was sent in (Telegram puts a message without one in General). */
  message_thread_id?: number;
  edits: string[]; // texts from editMessageText, in order
  deleted?: boolean;
}

export type Fault =
  | { kind: 'retry_after'; seconds: number }
  | { kind: 'status'; code: 500 | 502 }
  | { kind: 'error'; code: number; description: string } // e.g. 403 "Forbidden: bot was blocked by the user"
  | { kind: 'drop' } // the connection is reset before the request is processed (nothing happened)
  | { kind: 'reset-after' } // the request is processed (a message is sent), then the connection is reset before the answer
  | { kind: 'hang' }; // the request is never answered (a half-open connection): nothing happens until the client gives up

export interface ApiCall {
  method: string;
  params: Record<string, any>;
  fault?: Fault['kind'];
}
export interface FakeUser {
  id: number;
  first_name?: string;
  username?: string;
  language_code?: string;
}
export interface FakeChat {
  id: number;
  type: 'private' | 'group' | 'supergroup';
  title?: string;
  /** A supergroup with topics: messages sent in one carry its `message_thread_id`. */
  is_forum?: boolean;
}

/** The Bot API serves files up to this size to bots (getFile fails above it). */
export const GET_FILE_LIMIT = 20 * 1024 * 1024;
/** Long polls are held at most this long, whatever `timeout` the bot asks for. */
const POLL_CAP_SECONDS = 2;
/** Update types Telegram leaves out when allowed_updates is empty. */
const NOT_DEFAULT = ['chat_member', 'message_reaction', 'message_reaction_count'];
/** Parameters that arrive JSON-serialized when sent as form or query fields. */
const JSON_FIELDS = [
  'reply_markup',
  'reply_parameters',
  'allowed_updates',
  'commands',
  'entities',
  'link_preview_options',
  'scope',
  'results',
  'button',
];
const NOT_MODIFIED =
  'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';

class ApiError extends Error {
  constructor(
    readonly code: number,
    description: string,
  ) {
    super(description);
  }
}
const bad = (what: string) => new ApiError(400, `Bad Request: ${what}`);
const now = () => Math.floor(Date.now() / 1000);
const json = (v: unknown) => JSON.stringify(v ?? null);

// ---------------------------------------------------------------- HTML check

const ENTITY_TYPES: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  'tg-emoji': 'custom_emoji',
};
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };
const ENTITY = /&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([\da-fA-F]{1,6}));/y;

/** Decodes one HTML entity at `i`, or returns undefined if there is none. */
function entityAt(s: string, i: number): { char: string; end: number } | undefined {
  ENTITY.lastIndex = i;
  const m = ENTITY.exec(s);
  if (!m) return undefined;
  if (m[1]) return { char: NAMED[m[1]]!, end: ENTITY.lastIndex };
  const cp = m[2] ? Number(m[2]) : parseInt(m[3]!, 16);
  return cp > 0 && cp <= 0x10ffff ? { char: String.fromCodePoint(cp), end: ENTITY.lastIndex } : undefined;
}
const decode = (s: string) => s.replace(/&[^;]{1,9};/g, (e) => entityAt(e, 0)?.char ?? e);

/**
 * Parses Telegram-flavoured HTML into the text the user sees plus entities,
 * throwing `can't parse entities: ...` (Telegram's wording, byte offsets in
 * UTF-8) on markup the Bot API rejects. Deliberately stricter than Telegram in
 * one way: a bare `&` or `>` is an error here, while Telegram lets them through
 * — the docs require escaping, and an unescaped one means unescaped user input
 * that will break on the next `<`.
 */
export function parseTelegramHtml(html: string): { text: string; entities: MessageEntity[] } {
  const fail = (what: string): never => {
    throw new Error(`can't parse entities: ${what}`);
  };
  const at = (i: number) => Buffer.byteLength(html.slice(0, i));
  const open: OpenTag[] = [];
  const entities: any[] = [];
  let text = '';
  let i = 0;
  while (i < html.length) {
    const c = html[i]!;
    if (c === '&') {
      const e = entityAt(html, i) ?? fail(`unescaped "&" at byte offset ${at(i)}; write &amp;`);
      text += e.char;
      i = e.end;
    } else if (c === '>') {
      fail(`unescaped ">" at byte offset ${at(i)}; write &gt;`);
    } else if (c !== '<') {
      text += c;
      i++;
    } else if (html[i + 1] === '/') {
      const m = /<\/([^\s>]*)\s*>/y;
      m.lastIndex = i;
      const end = m.exec(html) ?? fail(`Unclosed end tag at byte offset ${at(i)}`);
      const name = end[1]!.toLowerCase();
      const top = open.pop() ?? fail(`Unexpected end tag at byte offset ${at(i)}`);
      if (top.tag !== name)
        fail(`Unmatched end tag at byte offset ${at(i)}, expected "</${top.tag}>", found "</${name}>"`);
      closeEntity(top, text, open, entities);
      i = m.lastIndex;
    } else {
      // Like Telegram, read the tag name up to whitespace or '>' and judge it first.
      const name = /[^\s>]*/y;
      name.lastIndex = i + 1;
      const tag = name.exec(html)![0].toLowerCase();
      if (!(tag in ENTITY_TYPES)) fail(`Unsupported start tag "${tag}" at byte offset ${at(i)}`);
      const attrs: Record<string, string> = {};
      const attr = /\s*(?:(>)|([^\s=>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?)/y;
      attr.lastIndex = name.lastIndex;
      for (;;) {
        const from = attr.lastIndex;
        const m = attr.exec(html);
        if (!m)
          fail(
            /^\s*$/.test(html.slice(from))
              ? `Unclosed start tag at byte offset ${at(i)}`
              : `Empty attribute name in the tag "${tag}" at byte offset ${at(i)}`,
          );
        if (m![1]) break;
        attrs[m![2]!.toLowerCase()] = decode(m![3] ?? m![4] ?? m![5] ?? '');
      }
      if (tag === 'span' && attrs.class !== 'tg-spoiler')
        fail(`Tag "span" must have class "tg-spoiler" at byte offset ${at(i)}`);
      open.push({ tag, start: text.length, attrs });
      i = attr.lastIndex;
    }
  }
  if (open.length) fail(`Can't find end tag corresponding to start tag "${open[open.length - 1]!.tag}"`);
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}

type OpenTag = { tag: string; start: number; attrs: Record<string, string> };

function closeEntity(top: OpenTag, text: string, open: OpenTag[], out: any[]) {
  const length = text.length - top.start;
  const lang = /^language-(.+)$/.exec(top.attrs.class ?? '')?.[1];
  const parent = open[open.length - 1];
  if (top.tag === 'code' && lang && parent?.tag === 'pre') return void (parent.attrs.language = lang); // <pre><code class="language-x"> is one pre entity
  if (length === 0 || (top.tag === 'a' && !top.attrs.href)) return; // Telegram drops these silently
  const e: any = { type: ENTITY_TYPES[top.tag], offset: top.start, length };
  if (top.tag === 'a') e.url = top.attrs.href;
  if (top.tag === 'pre' && top.attrs.language) e.language = top.attrs.language;
  if (top.tag === 'blockquote' && 'expandable' in top.attrs) e.type = 'expandable_blockquote';
  if (top.tag === 'tg-emoji') e.custom_emoji_id = top.attrs['emoji-id'];
  out.push(e);
}

/** What sendMessage/editMessageText validate before accepting text. */
function renderText(text: unknown, parseMode: unknown): { text: string; entities: MessageEntity[] } {
  if (typeof text !== 'string') throw bad('message text is empty');
  let parsed = { text, entities: [] as MessageEntity[] };
  const mode = typeof parseMode === 'string' ? parseMode.toLowerCase() : '';
  if (mode && !['html', 'markdown', 'markdownv2'].includes(mode)) throw bad(`unsupported parse_mode`);
  if (mode === 'html')
    try {
      parsed = parseTelegramHtml(text);
    } catch (e) {
      throw bad((e as Error).message);
    }
  if (!parsed.text.trim()) throw bad('message text is empty');
  if (parsed.text.length > 4096) throw bad('message is too long'); // UTF-16 code units, after parsing
  return parsed;
}

/**
 * Buttons as Telegram checks them. `where` is the chat type (web_app buttons work only in a user's
 * private chat with the bot) or "inline" (an inline result's message: no web_app either). Telegram
 * wants https for web_app; http is let through for 127.0.0.1 only, where tests serve the viewer.
 */
function checkMarkup(markup: any, where: string = 'private') {
  for (const b of markup?.inline_keyboard?.flat() ?? []) {
    const bytes = 'callback_data' in b ? Buffer.byteLength(String(b.callback_data)) : 1;
    if (bytes < 1 || bytes > 64) throw bad('BUTTON_DATA_INVALID'); // 1-64 bytes, not characters
    if ('web_app' in b) {
      if (where !== 'private') throw bad('BUTTON_TYPE_INVALID');
      if (!/^https:\/\/|^http:\/\/127\.0\.0\.1[:/]/.test(String(b.web_app?.url))) throw bad('BUTTON_URL_INVALID');
    }
    if ('url' in b && !/^(https?|tg):\/\/\S+$/.test(String(b.url))) throw bad('BUTTON_URL_INVALID');
  }
}

/** Whether every string in the parameters (texts, buttons, inline results) is whole UTF-16: no lone surrogate. */
const wellFormed = (v: unknown): boolean =>
  typeof v === 'string'
    ? !LONE_SURROGATE.test(v)
    : typeof v === 'object' && v !== null
      ? Object.entries(v).every(([k, x]) => !LONE_SURROGATE.test(k) && wellFormed(x))
      : true;
/** With the u flag a pair is one code point: only a surrogate without its other half is in \p{Cs}. */
const LONE_SURROGATE = /\p{Cs}/u;

async function readParams(req: http.IncomingMessage, url: URL): Promise<Record<string, any>> {
  let body = '';
  for await (const chunk of req.setEncoding('utf8')) body += chunk; // the decoder keeps multi-byte characters split across chunks intact
  const type = req.headers['content-type'] ?? '';
  const params: Record<string, any> = Object.fromEntries(url.searchParams);
  if (type.includes('json') && body) Object.assign(params, JSON.parse(body));
  else if (type.includes('urlencoded')) Object.assign(params, Object.fromEntries(new URLSearchParams(body)));
  for (const k of JSON_FIELDS) if (typeof params[k] === 'string') params[k] = JSON.parse(params[k]);
  return params;
}

/** A small seeded PRNG: fault sequences that repeat from run to run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------- server

/** The entities Telegram marks in a text or caption: /commands and @mentions. */
function entitiesOf(text: string): MessageEntity[] {
  return [...text.matchAll(/(?<=^|\s)(?:\/\w{1,32}(?:@\w{3,32})?|@\w{5,32})(?=$|[\s.,!?])/g)].map((m) => ({
    type: m[0][0] === '/' ? 'bot_command' : 'mention',
    offset: m.index!,
    length: m[0].length,
  }));
}

export class FakeBotApi {
  readonly apiRoot: string;
  readonly calls: ApiCall[] = [];
  readonly messages: SentMessage[] = [];
  commands: any[] = []; // from the last setMyCommands
  readonly callbackAnswers: { callback_query_id: string; text?: string; show_alert?: boolean }[] = [];
  /** answerInlineQuery calls, each checked as Telegram does (the messages' HTML parsed into `plain`). */
  readonly inlineAnswers: {
    inline_query_id: string;
    results: any[];
    plain: string[];
    is_personal?: boolean;
    button?: any;
  }[] = [];
  private readonly inlineIds = new Set<string>();
  readonly me: { id: number; is_bot: true; first_name: string; username: string; [k: string]: unknown };

  private updates: Update[] = []; // not yet confirmed by a getUpdates offset
  /** The last setWebhook: where and with which secret updates would be posted. */
  webhook?: { url: string; secret?: string };
  private allowedUpdates: string[] = [];
  private readonly wakePolls = new Set<() => void>();
  private readonly faults = new Map<string, Fault[]>();
  private readonly randomFaults = new Map<string, { fault: Fault; share: number; random: () => number }[]>();
  private readonly chats = new Map<number, Record<string, unknown>>();
  private readonly callbackIds = new Set<string>();
  /** Files users sent, by file_id: served by getFile and the /file/bot<token>/<path> download. */
  private readonly files = new Map<string, { bytes: Buffer; size: number; path: string }>();
  private nextUpdateId = 1;
  private nextMessageId = 1; // shared by user and bot messages, so ids are unique across chats
  private stopped = false;
  private offline = false;
  /** Connections reset while offline (each one a client's attempt to reach the server). */
  connectionsCut = 0;
  /** Answers getUpdates at once whatever its `timeout` (as some Bot API emulators do). */
  ignorePollTimeout = false;

  private constructor(
    private readonly server: http.Server,
    readonly token: string,
    username: string,
  ) {
    this.apiRoot = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.me = {
      id: 1000,
      is_bot: true,
      first_name: 'Test Bot',
      username,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
    };
  }

  static async start(opts: { token?: string; botUsername?: string } = {}): Promise<FakeBotApi> {
    const server = http.createServer();
    // grammY keeps connections alive; a server-side idle close racing a reused socket would look like a network error.
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const fake = new FakeBotApi(server, opts.token ?? '123456:TEST-TOKEN', opts.botUsername ?? 'cite_test_bot');
    server.on('request', (req, res) => void fake.handle(req, res));
    server.on('connection', (socket) => {
      if (fake.offline) fake.connectionsCut++, socket.destroy();
    });
    return fake;
  }

  // ------------------------------------------------------------ feeding updates

  /** A user sends text. Like Telegram, /commands and @mentions get entities unless `extra.entities` is given. */
  sendText(
    from: FakeUser,
    text: string,
    chat?: FakeChat,
    extra: {
      reply_to_message?: any;
      entities?: any[];
      quote?: string /** when it was sent (Unix seconds; default now) */;
      date?: number;
      /** The forum topic it is sent in (the chat must be a forum). */
      thread?: number;
    } = {},
  ): Update {
    const { user, chatObj } = this.userAndChat(from, chat);
    const entities = extra.entities ?? entitiesOf(text);
    const reply = extra.reply_to_message;
    const replied = reply ? ('edits' in reply ? this.toMessage(reply) : reply) : undefined;
    // Telegram's `quote`: part of the replied-to message the user selected, which must be in it.
    if (extra.quote !== undefined && (!replied || !String(replied.text ?? '').includes(extra.quote)))
      throw new Error(`quote ${JSON.stringify(extra.quote)} is not in the replied-to message`);
    const quote =
      extra.quote !== undefined
        ? { text: extra.quote, position: String(replied.text).indexOf(extra.quote), is_manual: true }
        : undefined;
    const message = {
      message_id: this.nextMessageId++,
      date: extra.date ?? now(),
      chat: chatObj,
      from: user,
      text,
      ...(entities.length ? { entities } : {}),
      ...(replied ? { reply_to_message: replied } : {}),
      ...(quote ? { quote } : {}),
      ...(extra.thread !== undefined ? { message_thread_id: extra.thread, is_topic_message: true } : {}),
    };
    if (extra.thread !== undefined && !chat?.is_forum) throw new Error('a topic message needs a forum chat');
    return this.push({ message });
  }

  /** The user edits the text of a message they sent: Telegram sends the whole message again, with `edit_date`. */
  editText(sent: Update, text: string): Update {
    if (!sent.message) throw new Error('only a message can be edited');
    return this.push({ edited_message: { ...sent.message, text, edit_date: now() } });
  }

  /** The user edits the caption of a photo (or other media) they sent: the whole message again, with `edit_date`. */
  editCaption(sent: Update, caption: string): Update {
    if (!sent.message?.caption) throw new Error('only a caption can be edited');
    return this.push({ edited_message: { ...sent.message, caption, edit_date: now() } });
  }

  /** A user types `@bot query` in any chat: an inline query (answered with answerInlineQuery). Returns its id. */
  sendInlineQuery(from: FakeUser, query: string, chatType = 'supergroup'): string {
    const id = String(7_000_000 + this.nextUpdateId);
    this.inlineIds.add(id);
    this.push({
      inline_query: {
        id,
        from: { is_bot: false, first_name: 'User', ...from },
        query,
        offset: '',
        chat_type: chatType,
      },
    });
    return id;
  }

  /** A message without text (photo, sticker, location, ...): `fields` are merged into the message. */
  sendMessageWith(from: FakeUser, fields: Record<string, unknown>, chat?: FakeChat): Update {
    const { user, chatObj } = this.userAndChat(from, chat);
    return this.push({
      message: { message_id: this.nextMessageId++, date: now(), chat: chatObj, from: user, ...fields },
    });
  }

  /**
   * A user sends a file. `size` stands in for `file_size` (a 25 MB file need not exist to test
   * the limit); getFile refuses files over 20 MB like Telegram, and the download serves `content`.
   */
  sendDocument(
    from: FakeUser,
    doc: { name?: string; content: Buffer | string; mime?: string; size?: number; caption?: string },
    chat?: FakeChat,
  ): Update {
    const bytes = Buffer.from(doc.content);
    const id = `doc${this.files.size + 1}`;
    const size = doc.size ?? bytes.length;
    this.files.set(id, { bytes, size, path: `documents/file_${this.files.size + 1}` });
    const document = {
      file_id: id,
      file_unique_id: `u${id}`,
      file_size: size,
      ...(doc.name !== undefined ? { file_name: doc.name } : {}),
      ...(doc.mime ? { mime_type: doc.mime } : {}),
    };
    const marked = entitiesOf(doc.caption ?? '');
    const caption = doc.caption ? { caption: doc.caption, ...(marked.length ? { caption_entities: marked } : {}) } : {};
    return this.sendMessageWith(from, { document, ...caption }, chat);
  }

  private userAndChat(from: FakeUser, chat?: FakeChat) {
    const user = { is_bot: false, first_name: 'User', ...from };
    const c = chat ?? { id: from.id, type: 'private' as const };
    const chatObj =
      c.type === 'private'
        ? {
            id: c.id,
            type: 'private',
            first_name: user.first_name,
            ...(user.username ? { username: user.username } : {}),
          }
        : { id: c.id, type: c.type, title: c.title ?? 'Test group', ...(c.is_forum ? { is_forum: true } : {}) };
    this.chats.set(c.id, chatObj);
    return { user, chatObj };
  }

  /** `/command args`; in groups Telegram clients address the bot explicitly, so `@botname` is appended there. */
  sendCommand(from: FakeUser, command: string, args = '', chat?: FakeChat): Update {
    const at = chat && chat.type !== 'private' ? `@${this.me.username}` : '';
    return this.sendText(from, `/${command}${at}${args ? ` ${args}` : ''}`, chat);
  }

  /** A user presses an inline button; throws if `message` has no such button (a user could not press it). */
  pressButton(from: FakeUser, message: SentMessage, data: string): string {
    const buttons: any[] = message.reply_markup?.inline_keyboard?.flat() ?? [];
    if (message.deleted || !buttons.some((b) => b.callback_data === data))
      throw new Error(
        `message ${message.message_id} has no button with callback_data ${JSON.stringify(data)}; markup: ${json(message.reply_markup)}`,
      );
    return this.pressRaw(from, message, data);
  }

  /**
   * A callback query with any `data`, whether or not `message` has such a button: what a modified
   * client (or a button from an older bot version) can send. Telegram does not check it either.
   */
  pressRaw(from: FakeUser, message: SentMessage, data: string): string {
    const id = String(9_000_000 + this.nextUpdateId);
    this.callbackIds.add(id);
    const user = { is_bot: false, first_name: 'User', ...from };
    this.push({
      callback_query: { id, from: user, message: this.toMessage(message), chat_instance: `ci${message.chat_id}`, data },
    });
    return id;
  }

  /** Updates not yet confirmed by a getUpdates offset: Telegram would deliver them again. */
  get unconfirmedIds(): number[] {
    return this.updates.map((u) => u.update_id);
  }

  /**
   * Webhook delivery: posts `update` (made by sendText, pressButton…; taken out of the getUpdates
   * queue) to `url` — a replica behind a load balancer — with the secret given to setWebhook (or
   * `secret`), as Telegram does. Resolves with the HTTP status.
   */
  async deliver(update: Update | string, url = this.webhook?.url, secret = this.webhook?.secret): Promise<number> {
    const u = typeof update === 'string' ? this.updates.find((x) => (x as any).callback_query?.id === update) : update;
    if (!u || !url) throw new Error('deliver: no such update, or no webhook URL');
    this.updates = this.updates.filter((x) => x !== u);
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(secret !== undefined ? { 'X-Telegram-Bot-Api-Secret-Token': secret } : {}),
      },
      body: JSON.stringify(u),
    });
    await res.arrayBuffer();
    return res.status;
  }

  /** A press on a game's "Play" button: the callback query carries `game_short_name` and no data. */
  pressGame(from: FakeUser, message: SentMessage, gameShortName: string): string {
    const id = String(9_000_000 + this.nextUpdateId);
    this.callbackIds.add(id);
    const user = { is_bot: false, first_name: 'User', ...from };
    this.push({
      callback_query: {
        id,
        from: user,
        message: this.toMessage(message),
        chat_instance: `ci${message.chat_id}`,
        game_short_name: gameShortName,
      },
    });
    return id;
  }

  /** The id of the most recent update fed in (0 before the first). */
  get lastUpdateId(): number {
    return this.nextUpdateId - 1;
  }

  // ------------------------------------------------------------ waiting & faults

  /** Polls `predicate` until it returns something truthy, and returns that. */
  async waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs = 2000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (Date.now() > deadline) {
        const last = this.calls.filter((c) => c.method !== 'getUpdates').slice(-8);
        const lines = last.map(
          (c) => `  ${c.method}${c.fault ? ` [fault: ${c.fault}]` : ''} ${json(c.params).slice(0, 300)}`,
        );
        throw new Error(
          `waitFor timed out after ${timeoutMs} ms. Last API calls (getUpdates omitted):\n${lines.join('\n') || '  (none)'}`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The next `times` calls to `method` fail as described, then normal service resumes. */
  failNext(method: string, how: Fault, times = 1): void {
    const key = method.toLowerCase();
    this.faults.set(key, [...(this.faults.get(key) ?? []), ...Array<Fault>(times).fill(how)]);
  }

  /**
   * From now on, each call to `method` fails as described with probability `share` (a seeded,
   * reproducible sequence); several calls add up. `ApiCall.fault` records which calls failed.
   */
  failRandomly(method: string, how: Fault, share: number, seed = 1): void {
    const key = method.toLowerCase();
    this.randomFaults.set(key, [
      ...(this.randomFaults.get(key) ?? []),
      { fault: how, share, random: mulberry32(seed) },
    ]);
  }

  /** Ends random faults for every method. */
  clearRandomFaults(): void {
    this.randomFaults.clear();
  }

  /**
   * The network to Telegram is down: open connections are cut and every new one is reset as soon
   * as it is made (counted in `connectionsCut`), until `goOnline`.
   */
  goOffline(): void {
    this.offline = true;
    for (const wake of [...this.wakePolls]) wake();
    setImmediate(() => this.server.closeAllConnections());
  }

  goOnline(): void {
    this.offline = false;
  }

  /** Answers pending long polls with [] and closes every socket, so nothing keeps the test process waiting. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const wake of [...this.wakePolls]) wake();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Let the woken polls write their answers first, then cut whatever is left (idle keep-alive sockets included).
    setImmediate(() => this.server.closeAllConnections());
    await closed;
  }

  // ------------------------------------------------------------ HTTP

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const send = (status: number, body: object) => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', ...(this.stopped ? { connection: 'close' } : {}) });
      res.end(JSON.stringify(body));
    };
    const fail = (code: number, description: string, extra?: object) =>
      send(code, { ok: false, error_code: code, description, ...extra });
    const url = new URL(req.url ?? '/', this.apiRoot);
    if (url.pathname.startsWith('/file/')) return this.download(url, res);
    const route = /^\/bot([^/]+)\/(\w+)$/.exec(url.pathname);
    if (!route) return fail(404, 'Not Found');
    if (route[1] !== this.token) return fail(401, 'Unauthorized');
    const method = route[2]!;
    let params: Record<string, any>;
    try {
      params = await readParams(req, url);
    } catch (e) {
      return fail(400, `Bad Request: can't parse request: ${(e as Error).message}`);
    }
    // Telegram takes UTF-8 only: half of a character of two UTF-16 units (an emoji cut by a slice) is refused.
    if (!wellFormed(params)) return fail(400, 'Bad Request: strings must be encoded in UTF-8');
    const fault = this.faults.get(method.toLowerCase())?.shift() ?? this.randomFault(method);
    this.calls.push({ method, params, ...(fault ? { fault: fault.kind } : {}) });
    if (fault?.kind === 'drop') return void req.socket.destroy();
    if (fault?.kind === 'hang') return; // the socket stays open; stop() cuts it
    if (fault?.kind === 'retry_after')
      return fail(429, `Too Many Requests: retry after ${fault.seconds}`, {
        parameters: { retry_after: fault.seconds },
      });
    if (fault?.kind === 'status') return fail(fault.code, fault.code === 502 ? 'Bad Gateway' : 'Internal Server Error');
    if (fault?.kind === 'error') return fail(fault.code, fault.description);
    if (fault?.kind === 'reset-after') {
      await this.dispatch(method, params, res).catch(() => {});
      return void req.socket.destroy();
    }
    try {
      send(200, { ok: true, result: await this.dispatch(method, params, res) });
    } catch (e) {
      if (e instanceof ApiError) fail(e.code, e.message);
      else fail(500, `Internal Server Error: fake Bot API crashed: ${(e as Error).stack}`);
    }
  }

  private randomFault(method: string): Fault | undefined {
    return this.randomFaults.get(method.toLowerCase())?.find((f) => f.random() < f.share)?.fault;
  }

  private async dispatch(method: string, p: Record<string, any>, res: http.ServerResponse): Promise<unknown> {
    switch (method.toLowerCase()) {
      case 'getme':
        return this.me;
      case 'getupdates':
        return this.getUpdates(p, res);
      case 'deletewebhook':
        if (String(p.drop_pending_updates) === 'true') this.updates = [];
        return true;
      case 'setwebhook':
        this.webhook = {
          url: String(p.url),
          secret: p.secret_token === undefined ? undefined : String(p.secret_token),
        };
        return true;
      case 'close':
      case 'logout':
      case 'sendchataction':
        return true;
      case 'getwebhookinfo':
        return { url: '', has_custom_certificate: false, pending_update_count: this.updates.length };
      case 'sendmessage':
        return this.sendMessage(p);
      case 'editmessagetext':
        return this.editMessage(p, true);
      case 'editmessagereplymarkup':
        return this.editMessage(p, false);
      case 'deletemessage': {
        const msg = this.findMessage(p);
        if (msg) msg.deleted = true;
        else if (Number(p.message_id) >= this.nextMessageId) throw bad('message to delete not found');
        return true;
      }
      case 'answercallbackquery': {
        const id = String(p.callback_query_id);
        // Like Telegram, a query is answered once: a second answer gets the same error as an unknown id.
        if (!this.callbackIds.delete(id))
          throw bad('query is too old and response timeout expired or query ID is invalid');
        this.callbackAnswers.push({
          callback_query_id: id,
          ...(p.text !== undefined ? { text: p.text } : {}),
          ...(p.show_alert ? { show_alert: true } : {}),
        });
        return true;
      }
      case 'setmycommands': {
        const commands = Array.isArray(p.commands) ? p.commands : [];
        if (commands.some((c) => !/^[a-z0-9_]{1,32}$/.test(c?.command))) throw bad('BOT_COMMAND_INVALID');
        if (commands.some((c) => !c.description || c.description.length > 256))
          throw bad('BOT_COMMAND_DESCRIPTION_INVALID');
        this.commands = commands;
        return true;
      }
      case 'getmycommands':
        return this.commands;
      case 'answerinlinequery':
        return this.answerInlineQuery(p);
      case 'getfile': {
        const file = this.files.get(String(p.file_id));
        if (!file) throw bad('invalid file_id');
        if (file.size > GET_FILE_LIMIT) throw bad('file is too big');
        return {
          file_id: String(p.file_id),
          file_unique_id: `u${p.file_id}`,
          file_size: file.size,
          file_path: file.path,
        };
      }
      case 'deletemycommands':
        this.commands = [];
        return true;
      default:
        throw new ApiError(404, 'Not Found: method not found');
    }
  }

  /** `GET /file/bot<token>/<file_path>`: the bytes of a file getFile described (failNext('downloadFile', hang): half, then nothing). */
  private download(url: URL, res: http.ServerResponse) {
    const fault = this.faults.get('downloadfile')?.shift();
    this.calls.push({
      method: 'downloadFile',
      params: { path: url.pathname.replace(/^\/file\/bot[^/]+\//, '') },
      ...(fault ? { fault: fault.kind } : {}),
    });
    const route = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    const file =
      route && route[1] === this.token ? [...this.files.values()].find((f) => f.path === route[2]) : undefined;
    if (!file) return void res.writeHead(404).end('Not Found');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.bytes.length });
    if (fault?.kind === 'hang') return void res.write(file.bytes.subarray(0, file.bytes.length >> 1)); // stop() cuts it
    res.end(file.bytes);
  }

  private async getUpdates(p: Record<string, any>, res: http.ServerResponse): Promise<Update[]> {
    const offset = Number(p.offset ?? 0);
    const limit = Math.min(Math.max(Number(p.limit ?? 100) || 100, 1), 100);
    if (Array.isArray(p.allowed_updates)) this.allowedUpdates = p.allowed_updates; // sticky, as on Telegram
    // An offset confirms (forgets) every earlier update; a negative one keeps only the last -offset.
    if (offset > 0) this.updates = this.updates.filter((u) => u.update_id >= offset);
    else if (offset < 0) this.updates = this.updates.slice(offset);
    const allowed = (u: Update) => {
      const type = Object.keys(u).find((k) => k !== 'update_id')!;
      return this.allowedUpdates.length ? this.allowedUpdates.includes(type) : !NOT_DEFAULT.includes(type);
    };
    // Telegram never delivers (or keeps) filtered-out updates.
    const pick = () => (this.updates = this.updates.filter(allowed)).slice(0, limit);
    const timeout = this.ignorePollTimeout ? 0 : Math.min(Number(p.timeout ?? 0) || 0, POLL_CAP_SECONDS);
    if (!pick().length && timeout > 0 && !this.stopped) {
      // Hold the request until an update arrives, the timeout passes, the client gives up, or we stop.
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.wakePolls.delete(wake);
          res.off('close', wake);
          resolve();
        };
        const timer = setTimeout(wake, timeout * 1000);
        this.wakePolls.add(wake);
        res.on('close', wake);
      });
    }
    return this.stopped ? [] : pick();
  }

  private sendMessage(p: Record<string, any>) {
    const parsed = renderText(p.text, p.parse_mode);
    const chatId = Number(p.chat_id);
    checkMarkup(p.reply_markup, String(this.chats.get(chatId)?.type ?? 'private'));
    if (!Number.isInteger(chatId)) throw bad('chat not found'); // @channel usernames are not modelled
    const replyTo = Number(p.reply_parameters?.message_id ?? p.reply_to_message_id) || undefined;
    const thread = Number(p.message_thread_id) || undefined;
    if (thread && !this.chats.get(chatId)?.is_forum) throw bad('message thread not found');
    const msg: SentMessage = {
      message_id: this.nextMessageId++,
      chat_id: chatId,
      text: p.text,
      plain: parsed.text,
      entities: parsed.entities,
      edits: [],
      ...(p.parse_mode ? { parse_mode: p.parse_mode } : {}),
      ...(p.reply_markup ? { reply_markup: p.reply_markup } : {}),
      ...(replyTo ? { reply_to_message_id: replyTo } : {}),
      ...(thread ? { message_thread_id: thread } : {}),
    };
    this.messages.push(msg);
    return this.toMessage(msg);
  }

  /** Checks an inline answer as Telegram does: known query, at most 50 results, unique ids of 1-64 bytes, valid messages and buttons. */
  private answerInlineQuery(p: Record<string, any>) {
    const id = String(p.inline_query_id);
    if (!this.inlineIds.has(id)) throw bad('query is too old and response timeout expired or query ID is invalid');
    const results: any[] = Array.isArray(p.results) ? p.results : [];
    if (results.length > 50) throw bad('RESULTS_TOO_MUCH');
    const ids = new Set<string>();
    const plain: string[] = [];
    for (const r of results) {
      const rid = String(r?.id ?? '');
      if (Buffer.byteLength(rid) < 1 || Buffer.byteLength(rid) > 64 || ids.has(rid)) throw bad('RESULT_ID_INVALID');
      ids.add(rid);
      if (r.type !== 'article' || !r.title) throw bad('RESULT_TYPE_INVALID');
      const content = r.input_message_content;
      plain.push(renderText(content?.message_text, content?.parse_mode).text);
      checkMarkup(r.reply_markup, 'inline');
    }
    if (p.button && (!p.button.text || !/^[\w-]{1,64}$/.test(String(p.button.start_parameter ?? ''))))
      throw bad('BUTTON_INVALID');
    this.inlineIds.delete(id); // like Telegram, a query is answered once: a second answer gets the unknown id's error
    this.inlineAnswers.push({
      inline_query_id: id,
      results,
      plain,
      ...(p.is_personal ? { is_personal: true } : {}),
      ...(p.button ? { button: p.button } : {}),
    });
    return true;
  }

  private editMessage(p: Record<string, any>, withText: boolean) {
    const msg = this.findMessage(p);
    if (!msg) throw bad('message to edit not found');
    const parsed = withText ? renderText(p.text, p.parse_mode) : { text: msg.plain, entities: msg.entities };
    checkMarkup(p.reply_markup, String(this.chats.get(msg.chat_id)?.type ?? 'private'));
    // Telegram compares what the user would see, not the raw markup.
    if (
      parsed.text === msg.plain &&
      json(parsed.entities) === json(msg.entities) &&
      json(p.reply_markup) === json(msg.reply_markup)
    )
      throw bad(NOT_MODIFIED);
    if (withText) {
      Object.assign(msg, { text: p.text, plain: parsed.text, entities: parsed.entities, parse_mode: p.parse_mode });
      if (!p.parse_mode) delete msg.parse_mode;
      msg.edits.push(p.text);
    }
    if (p.reply_markup) msg.reply_markup = p.reply_markup;
    else delete msg.reply_markup; // an edit without reply_markup removes the inline keyboard
    return { ...this.toMessage(msg), edit_date: now() };
  }

  private findMessage(p: Record<string, any>) {
    return this.messages.find(
      (m) => m.chat_id === Number(p.chat_id) && m.message_id === Number(p.message_id) && !m.deleted,
    );
  }

  /** A bot message as the Bot API returns it. */
  private toMessage(m: SentMessage) {
    const chat = this.chats.get(m.chat_id) ?? { id: m.chat_id, type: 'private', first_name: 'User' };
    return {
      message_id: m.message_id,
      date: now(),
      chat,
      from: this.me,
      text: m.plain,
      ...(m.entities.length ? { entities: m.entities } : {}),
      ...(m.reply_markup?.inline_keyboard ? { reply_markup: m.reply_markup } : {}),
      ...(m.message_thread_id ? { message_thread_id: m.message_thread_id, is_topic_message: true } : {}),
    };
  }

  private push(body: Record<string, unknown>): Update {
    const update = { update_id: this.nextUpdateId++, ...body } as Update;
    this.updates.push(update);
    for (const wake of [...this.wakePolls]) wake();
    return update;
  }
}
