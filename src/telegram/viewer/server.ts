import { readFileSync } from 'node:fs';
import type http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parse, validate } from '@telegram-apps/init-data-node';
import { log } from '../../log.js';
import { TEXTS, LANGS, languageOfCode, type Lang } from '../../replies/texts.js';
import { VIEWER_TEXTS } from '../../replies/viewerTexts.js';
import { blockAt, locate, shownBlocks, type LiveTexts } from './documents.js';
import { decodeRefs, LinkSigner, type LinkGrant } from './links.js';
import { guarded, requestUrl } from '../delivery/requests.js';

/** Telegram's launch data older than this is refused (the Mini Apps docs' advice: a day). */
const INIT_DATA_MAX_AGE_SECONDS = 24 * 60 * 60;
/** Blocks sent before and after the quote's at first; then pages of this many as the reader scrolls. */
const BEFORE = 12;
const AFTER = 40;
const PAGE = 60;

/**
 * Only the bot's own files, no inline script or style, nothing from elsewhere; Telegram Web may
 * show the page in a frame, nobody else.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  'frame-ancestors https://web.telegram.org',
].join('; ');

const ASSETS = new URL('./assets/', import.meta.url);
const asset = (name: string) => readFileSync(fileURLToPath(new URL(name, ASSETS)), 'utf8');

/**
 * The texts the page shows without the server's answer (while loading, or when the connection
 * dropped), in every language: JSON inside a script element, "<" escaped so no text can end it.
 */
const pageTexts = () =>
  JSON.stringify(
    Object.fromEntries(
      LANGS.map((l) => [l, { loading: VIEWER_TEXTS[l].loading, unreachable: VIEWER_TEXTS[l].unreachable }]),
    ),
  ).replace(/</g, '\\u003c');

export interface ViewerSettings {
  /** VIEWER_URL: the page's public base (https). */
  url: string;
  botToken: string;
  /** How long a signed link (groups, inline messages) works. */
  linkHours: number;
}

/** Who may see documents: the bot's own rule for who may ask. */
export type MayAsk = (user: number, chat?: number) => Promise<boolean>;

/**
 * The document viewer (a Telegram Mini App): the page and its script at VIEWER_URL, and the data
 * endpoint `api/view`, which shows a document's text only to a user the bot would answer —
 * identified by Telegram's signed launch data (initData) or by a link the bot signed.
 */
export class Viewer {
  readonly signer: LinkSigner;
  private readonly base: string;
  private readonly files: Record<string, { type: string; body: string }>;

  constructor(
    private readonly settings: ViewerSettings,
    readonly texts: LiveTexts,
    private readonly mayAsk: MayAsk,
  ) {
    this.signer = new LinkSigner(settings.botToken);
    this.base = new URL(settings.url).pathname.replace(/\/+$/, '');
    const page = asset('index.html').replaceAll('{{BASE}}', this.base).replace('{{TEXTS}}', pageTexts());
    this.files = {
      '/': { type: 'text/html; charset=utf-8', body: page },
      '/app.js': { type: 'text/javascript; charset=utf-8', body: asset('app.js') },
      '/app.css': { type: 'text/css; charset=utf-8', body: asset('app.css') },
    };
  }

  /** VIEWER_URL. */
  get url(): string {
    return this.settings.url;
  }

  /** The page for quote `selected` of these quotes; with a grant, a signed link (no initData needed). */
  link(refs: string, selected: number, lang: Lang, grant?: Omit<LinkGrant, 'expires'>): string {
    const url = new URL(`${this.settings.url.replace(/\/+$/, '')}/`);
    url.searchParams.set('v', refs);
    url.searchParams.set('i', String(selected));
    url.searchParams.set('l', lang);
    if (grant)
      url.searchParams.set(
        't',
        this.signer.sign(refs, { ...grant, expires: Math.floor(Date.now() / 1000 + this.settings.linkHours * 3600) }),
      );
    return url.toString();
  }

  /** Serves a request under VIEWER_URL's path; false for any other path (left to the caller). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = requestUrl(req, res, 'http://viewer');
    if (!url) return true; // answered 400
    if (url.pathname !== this.base && !url.pathname.startsWith(`${this.base}/`)) return false;
    const route = url.pathname.slice(this.base.length) || '/';
    const headers = {
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    };
    const file = this.files[route];
    if (req.method !== 'GET' && req.method !== 'HEAD') res.writeHead(405, headers).end();
    else if (file)
      res.writeHead(200, { ...headers, 'Content-Type': file.type, 'Cache-Control': 'no-cache' }).end(file.body);
    else if (route !== '/api/view') res.writeHead(404, headers).end();
    else this.respond(req, url, res, headers);
    return true;
  }

  private respond(
    req: http.IncomingMessage,
    url: URL,
    res: http.ServerResponse,
    headers: Record<string, string>,
  ): void {
    void this.view(req, url).then(
      ({ status, body }) =>
        res
          .writeHead(status, {
            ...headers,
            'Content-Type': 'application/json; charset=utf-8',
            'Cache-Control': 'no-store',
          })
          .end(JSON.stringify(body)),
      (err: unknown) => {
        log.error({ err }, 'viewer request failed');
        res.writeHead(500, headers).end();
      },
    );
  }

  /** The data endpoint: 401 with no document text unless the launch data or the link is valid and its user may ask. */
  private async view(req: http.IncomingMessage, url: URL): Promise<{ status: number; body: object }> {
    const started = performance.now();
    const q = url.searchParams;
    const v = q.get('v') ?? '';
    const refs = decodeRefs(v);
    const asked = await this.viewer(req, v, q.get('t'));
    const lang = LANGS.find((l) => l === q.get('l')) ?? asked?.lang ?? 'en';
    const t = VIEWER_TEXTS[lang];
    if (!asked || !refs) return { status: 401, body: { error: t.denied } };
    if (!this.texts.available) return { status: 404, body: { error: t.noTexts } };
    const selected = wholeIn(q.get('i'), refs.length - 1);
    const ref = refs[selected]!;
    const found = this.texts.document(ref.doc);
    const quotes = refs.map((r, i) => [t.quote(i + 1), this.texts.titleOf(r.doc)].filter(Boolean).join(' · '));
    if (!found) return { status: 200, body: { quotes, selected, notice: t.missing, blocks: [], total: 0, from: 0 } };
    const { doc, laid } = found;
    const at = locate(doc, laid, ref);
    const head = {
      title: doc.title,
      file: doc.file,
      quotes,
      selected,
      total: laid.blocks.length,
      labels: { page: TEXTS[lang].page },
    };
    const from = q.get('from');
    if (from !== null) {
      const start = wholeIn(from, laid.blocks.length);
      return { status: 200, body: { ...head, from: start, blocks: shownBlocks(laid, start, start + PAGE, at) } };
    }
    const notice = !at
      ? t.changedGone
      : at.status === 'moved'
        ? t.changedMoved
        : at.status === 'sentence'
          ? t.changedSentence
          : undefined;
    const quoted = at ? blockAt(laid, at.mark[0]) : 0;
    const start = Math.max(0, quoted - BEFORE);
    const body = {
      ...head,
      ...(notice ? { notice } : {}),
      from: start,
      at: at ? quoted : undefined,
      blocks: shownBlocks(laid, start, quoted + AFTER, at),
    };
    log.debug(
      { file: doc.file, blocks: laid.blocks.length, ms: Math.round(performance.now() - started) },
      'viewer: document shown',
    );
    return { status: 200, body };
  }

  /**
   * Who is looking, if they may: Telegram's initData (in `Authorization: tma …`) checked with the
   * bot token and its age, or a link token signed for these quotes and not expired; then the bot's rule for who may ask.
   */
  private async viewer(
    req: http.IncomingMessage,
    v: string,
    token: string | null,
  ): Promise<{ user: number; lang?: Lang } | undefined> {
    const auth = req.headers.authorization ?? '';
    if (auth.startsWith('tma ')) {
      const initData = auth.slice(4);
      try {
        validate(initData, this.settings.botToken, { expiresIn: INIT_DATA_MAX_AGE_SECONDS });
        const user = parse(initData).user;
        if (!user || !(await this.mayAsk(user.id))) return undefined;
        return { user: user.id, lang: languageOfCode(user.language_code) };
      } catch (err) {
        log.info({ reason: (err as Error).name }, 'viewer: launch data refused');
        return undefined;
      }
    }
    const grant = token ? this.signer.verify(v, token) : undefined;
    if (!grant) {
      if (token) log.info('viewer: link token refused');
      return undefined;
    }
    return (await this.mayAsk(grant.user, grant.chat)) ? { user: grant.user } : undefined;
  }
}

/**
 * A position a request gives, as a whole number in [0, max]: a tampered "0.5" named no quote
 * (refs[0.5]) and the request failed.
 */
const wholeIn = (given: string | null, max: number) => Math.min(Math.max(Math.trunc(Number(given)) || 0, 0), max);

/** The viewer alone on `port` (polling mode): its routes, 404 for anything else. Resolves once listening. */
export async function serveViewer(viewer: Viewer, port: number, host?: string): Promise<http.Server> {
  const { createServer } = await import('node:http');
  const server = createServer(
    guarded('viewer', (req, res) => {
      if (!viewer.handle(req, res)) res.writeHead(404).end();
    }),
  );
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  log.info(
    `document viewer: serving ${new URL(viewer.url).pathname} on port ${(server.address() as { port: number }).port}`,
  );
  return server;
}
