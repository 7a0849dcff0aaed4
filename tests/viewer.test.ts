/**
 * The document viewer, inline mode and replies to a quote, end to end: the real bot against the
 * fake Bot API, the viewer served over HTTP on 127.0.0.1, and the page opened in a real headless
 * Chromium (Debian's `chromium`, driven by playwright-core; skipped with how to install it when
 * missing). One browser for the whole file.
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { sign } from '@telegram-apps/init-data-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanDocument } from '../src/documents/clean.js';
import { Engine } from '../src/engine.js';
import type { ManifestDocument } from '../src/index/manifest.js';
import { TEXTS } from '../src/replies/texts.js';
import { ADMIN, quotedBold, startBot, TOKEN, user, type RunningBot } from './support/botHarness.js';
import type { FakeBotApi, SentMessage } from './support/fakeBotApi.js';
import type { LiveGeneration } from '../src/index/generation.js';
import type { TextsReader } from '../src/index/texts.js';
import { writeFormatFolder } from './support/formatFixtures.js';
import { serveWebhook } from '../src/telegram/delivery/webhook.js';
import { serveViewer } from '../src/telegram/viewer/server.js';
import { type Laid, locate } from '../src/telegram/viewer/documents.js';
import { documentId, fingerprint, inkCount, type QuoteRef } from '../src/telegram/viewer/links.js';
import { childServer, rawRequest } from './support/childServer.js';
import { makeLongPdf, QUOTED_PAGE, QUOTED_SENTENCE } from './support/longPdf.js';
import { VIEWER_TEXTS } from '../src/replies/viewerTexts.js';
import { REPO, SEEDS, tempDirs, testConfig, testModelDir } from './support/testModel.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p) => p && existsSync(p),
);
if (!CHROMIUM)
  console.warn(
    'viewer browser tests skipped: no Chromium found. Install it with `apt-get install -y chromium` (or set CHROMIUM_PATH).',
  );
const ARTIFACTS = path.join(REPO, 'tests/artifacts');

// The characters the viewer digests while it looks for a quote: the work a quote reference costs.
const digested = vi.hoisted(() => ({ chars: 0 }));
vi.mock('../src/telegram/viewer/links.js', async (importOriginal) => {
  const links = await importOriginal<typeof import('../src/telegram/viewer/links.js')>();
  return { ...links, fingerprint: (ink: string) => ((digested.chars += ink.length), links.fingerprint(ink)) };
});

const LETTERS_FILE = 'letters.txt';
const LETTERS = 'Şəhər İğdır çağrısı: Ğ ğ İ ı Ö ö Ü ü Ç ç Ş ş Ə ə. Москва, Съезд объявил решение.';
const LETTERS_DOC = `Xəbərlər və Новости\n\nThe glockenspiel orchestra of the town met on Sunday. ${LETTERS}\n\nThe glockenspiel orchestra will play again in May.\n`;

const tmp = tempDirs('cite-viewer-');
let seeds: string;
let engine: Engine;
let run: RunningBot;
let fake: FakeBotApi;
let server: http.Server;
let origin: string;
let browser: Browser | undefined;
let env: { EMBED_MODEL: string; INDEX_DIR: string; SEEDS_DIR: string } & Record<string, string>;

beforeAll(async () => {
  seeds = tmp();
  cpSync(SEEDS, seeds, { recursive: true });
  await writeFormatFolder(seeds); // a PDF, a DOCX, a web page, Markdown, a Windows-1251 text
  writeFileSync(path.join(seeds, 'report.pdf'), await makeLongPdf());
  writeFileSync(path.join(seeds, LETTERS_FILE), LETTERS_DOC);
  // The server first (its port goes into VIEWER_URL), the viewer handed to it once the bot exists.
  let handle: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) | undefined;
  server = http.createServer((req, res) => {
    if (!handle?.(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  env = {
    EMBED_MODEL: await testModelDir(),
    INDEX_DIR: tmp(),
    SEEDS_DIR: seeds,
    RATE_LIMIT_PER_MINUTE: '1000',
    VIEWER_URL: `${origin}/viewer`,
  };
  engine = await Engine.open(testConfig(env));
  run = await startBot(engine, env);
  fake = run.fake;
  handle = (req, res) => run.viewer!.handle(req, res);
  if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await run?.stop();
  await new Promise((resolve) => server?.close(resolve));
  expect(run.errors).toEqual([]);
});

const ask = (from: { id: number }, text: string, chat?: Parameters<FakeBotApi['sendText']>[2]) =>
  run.exchange(() => fake.sendText(from, text, chat));
const buttons = (m: SentMessage | undefined): any[] => m?.reply_markup?.inline_keyboard?.flat() ?? [];
/** The text of quote `n` (1-based) of an answer as the user sees it, without the "…" of cuts. */
function quoteText(m: SentMessage, n = 1): string {
  const quotes = m.entities.filter((e) => e.type === 'blockquote');
  const q = quotes[n - 1]!;
  return m.plain
    .slice(q.offset, q.offset + q.length)
    .replace(/^… /, '')
    .replace(/ …$/, '');
}
const squeeze = (s: string) => s.replace(/\s+/g, ' ').trim();

const DARK = {
  bg_color: '#17212b',
  text_color: '#f5f5f5',
  hint_color: '#708499',
  link_color: '#6ab3f3',
  button_color: '#5288c1',
  button_text_color: '#ffffff',
  secondary_bg_color: '#232e3c',
};
const LIGHT = {
  bg_color: '#ffffff',
  text_color: '#000000',
  hint_color: '#999999',
  link_color: '#2481cc',
  button_color: '#2481cc',
  button_text_color: '#ffffff',
  secondary_bg_color: '#efeff3',
};

/** Telegram's launch parameters for a user, signed with the bot token (or not, when `forge`). */
function launchData(from: { id: number; first_name?: string }, authDate = new Date(), token = TOKEN): string {
  return sign(
    {
      user: { id: from.id, first_name: from.first_name ?? 'User', language_code: 'en' },
      chat_instance: '-1',
      chat_type: 'sender',
    },
    token,
    authDate,
  );
}
/** The URL a Telegram client opens for a web_app button: the button's URL with the launch parameters in the fragment. */
const launched = (url: string, initData: string, theme = DARK) =>
  `${url}#tgWebAppData=${encodeURIComponent(initData)}&tgWebAppVersion=8.0&tgWebAppPlatform=android&tgWebAppThemeParams=${encodeURIComponent(JSON.stringify(theme))}`;

/** Opens a page, waits until it shows a document or an error; records every request it made. */
async function open(url: string): Promise<{ page: Page; requests: string[]; ms: number }> {
  const page = await browser!.newPage({ viewport: { width: 412, height: 860 }, deviceScaleFactor: 1 });
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const started = performance.now();
  await page.goto(url);
  await page.waitForFunction(
    () => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error',
    undefined,
    { timeout: 20_000 },
  );
  return { page, requests, ms: performance.now() - started };
}
const markText = (page: Page) => page.$$eval('mark', (ms) => ms.map((m) => m.textContent).join(' '));
/** Waits until the page's marked text is `quote` (spaces squeezed). */
const showsMarked = (page: Page, quote: string) =>
  page.waitForFunction(
    (q) =>
      [...document.querySelectorAll('mark')]
        .map((m) => m.textContent)
        .join(' ')
        .replace(/\s+/g, ' ')
        .trim() === q,
    quote,
    { timeout: 10_000 },
  );

describe('private chat: the web_app button opens the document at the quote', () => {
  it.skipIf(!CHROMIUM)(
    'a PDF quote is marked in its page, the best sentence emphasised; a screenshot is kept',
    async () => {
      const x = await ask(user(501), 'When does the community garden open on Saturday?');
      const answer = x.sent.at(-1)!;
      const open_ = buttons(answer).filter((b) => b.web_app);
      expect(open_.length).toBeGreaterThan(0);
      expect(open_[0].text).toContain('Open in document');
      const quote = quoteText(answer);
      const bold = quotedBold(answer)[0]!;
      const { page, requests } = await open(launched(open_[0].web_app.url, launchData(user(501))));
      expect(squeeze(await markText(page))).toBe(squeeze(quote));
      expect(squeeze(await page.$eval('mark strong', (s) => s.textContent!))).toBe(squeeze(bold));
      // Page markers and ¶ numbers, the title, the file.
      expect(await page.textContent('h1')).toBe('Riverside Community Handbook');
      expect(await page.$$eval('.pagebreak', (e) => e.map((x) => x.textContent))).toEqual(['p. 1', 'p. 2', 'p. 3']);
      expect(await page.textContent('.file')).toBe('handbook.pdf');
      // Nothing from outside the bot's server; the theme's colours applied.
      expect(requests.every((r) => r.startsWith(origin))).toBe(true);
      expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(23, 33, 43)');
      await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-pdf-dark.png') });
      await page.close();
      const light = await open(launched(open_[0].web_app.url, launchData(user(501)), LIGHT));
      expect(await light.page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
        'rgb(255, 255, 255)',
      );
      await light.page.screenshot({ path: path.join(ARTIFACTS, 'viewer-pdf-light.png') });
      await light.page.close();
    },
  );

  it.skipIf(!CHROMIUM)('the other quotes of the answer are one tap away', async () => {
    const x = await ask(user(521), 'What happened on 27 September 2020?');
    const answer = x.sent.at(-1)!;
    const opens = buttons(answer).filter((b) => b.web_app);
    expect(opens.length).toBeGreaterThan(1);
    expect(opens.map((b) => b.text)).toEqual(opens.map((_, i) => `${i + 1}. 📄 Open in document`));
    const { page } = await open(launched(opens[0].web_app.url, launchData(user(521))));
    const tabs = await page.$$('nav button');
    expect(tabs).toHaveLength(opens.length);
    await tabs[1]!.click();
    await page.waitForFunction(
      () => document.querySelector('nav button[aria-current="true"]')?.textContent?.startsWith('Quote 2'),
      undefined,
      { timeout: 10_000 },
    );
    await showsMarked(page, squeeze(quoteText(answer, 2)));
    await page.close();
  });

  it.skipIf(!CHROMIUM)('Cyrillic and Turkish/Azerbaijani letters arrive intact', async () => {
    const x = await ask(user(502), 'What did the glockenspiel orchestra of the town do on Sunday?');
    const answer = x.sent.at(-1)!;
    const b = buttons(answer).find((b) => b.web_app)!;
    const { page } = await open(launched(b.web_app.url, launchData(user(502))));
    expect(await page.textContent('main')).toContain(LETTERS);
    expect(await page.textContent('h1')).toBe('Xəbərlər və Новости');
    await page.close();
  });

  it.skipIf(!CHROMIUM)(`a 300-page PDF opens at page ${QUOTED_PAGE} in under a second`, async () => {
    const x = await ask(user(503), 'Who approved the new lighthouse on the northern pier?');
    const answer = x.sent.at(-1)!;
    expect(answer.plain).toContain(`p. ${QUOTED_PAGE}`);
    const b = buttons(answer).find((b) => b.web_app)!;
    // The first opening reads the document from the index (cold); a machine shared with other work
    // may stall any one run, so the best of three is held to the second.
    const times: number[] = [];
    let page!: Page;
    for (let i = 0; i < 3 && !(times.length && Math.min(...times) < 1000); i++) {
      await page?.close();
      const opened = await open(launched(b.web_app.url, launchData(user(503))));
      page = opened.page;
      times.push(opened.ms);
    }
    console.log(
      `viewer: 300-page PDF opened at the quote in ${times.map((t) => Math.round(t)).join(', ')} ms (first: document read from the index)`,
    );
    expect(squeeze(await page.$eval('mark strong', (s) => s.textContent!))).toBe(QUOTED_SENTENCE);
    expect(await page.$$eval('main p, main h1, main h2', (e) => e.length)).toBeLessThan(120); // not the whole document
    expect(Math.min(...times)).toBeLessThan(1000);
    // Scrolling up loads the paragraphs before.
    const firstShown = await page.$eval('.pagebreak', (e) => e.textContent);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForFunction((first) => document.querySelector('.pagebreak')!.textContent !== first, firstShown, {
      timeout: 10_000,
    });
    await page.close();
  });
});

describe('a bad connection', () => {
  it.skipIf(!CHROMIUM)(
    'a request for more of the document that is lost: scrolling on asks again (it never loaded more after one)',
    async () => {
      const x = await ask(user(504), 'Who approved the new lighthouse on the northern pier?');
      const b = buttons(x.sent.at(-1)!).find((b) => b.web_app)!;
      const { page } = await open(launched(b.web_app.url, launchData(user(504))));
      const firstShown = await page.$eval('.pagebreak', (e) => e.textContent);
      let lost = false;
      // The next request for more blocks fails as on a dropped mobile connection (fetch rejects).
      await page.route(/\/api\/view\?.*from=/, (route) => (lost ? route.continue() : ((lost = true), route.abort())));
      await page.evaluate(() => window.scrollTo(0, 0));
      await expect.poll(() => lost, { timeout: 10_000 }).toBe(true);
      // The reader scrolls on: the blocks before are asked for again, and shown.
      await page.evaluate(() => window.scrollTo(0, 500));
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForFunction((first) => document.querySelector('.pagebreak')!.textContent !== first, firstShown, {
        timeout: 10_000,
      });
      await page.close();
    },
  );

  it.skipIf(!CHROMIUM)(
    'the first load lost: the page says so in the link’s language (it showed only "…")',
    async () => {
      const x = await ask(user(505), 'Who approved the new lighthouse on the northern pier?');
      const url = buttons(x.sent.at(-1)!).find((b) => b.web_app)!.web_app.url;
      const page = await browser!.newPage({ viewport: { width: 412, height: 860 } });
      await page.route(/\/api\/view\?/, (route) => route.abort());
      for (const [lang, text] of [
        ['en', VIEWER_TEXTS.en.unreachable],
        ['ru', VIEWER_TEXTS.ru.unreachable],
      ] as const) {
        const inLang = new URL(url);
        inLang.searchParams.set('l', lang);
        await page.goto(launched(inLang.toString(), launchData(user(505))));
        await page.waitForFunction(() => document.body.dataset.state === 'error', undefined, { timeout: 20_000 });
        expect(await page.textContent('main')).toBe(text);
      }
      await page.close();
    },
  );

  it.skipIf(!CHROMIUM)(
    'a tap on another quote whose request is lost: the quote shown stays, the page says why, a tap again shows it',
    async () => {
      const x = await ask(user(522), 'What happened on 27 September 2020?');
      const answer = x.sent.at(-1)!;
      const opens = buttons(answer).filter((b) => b.web_app);
      const { page } = await open(launched(opens[0].web_app.url, launchData(user(522))));
      const shown = await markText(page);
      let lose = true;
      await page.route(/\/api\/view\?/, (route) => (lose ? route.abort() : route.continue()));
      await (await page.$$('nav button'))[1]!.click();
      await page.waitForFunction(
        (t) => document.getElementById('notice')!.textContent === t,
        VIEWER_TEXTS.en.unreachable,
        {
          timeout: 10_000,
        },
      );
      expect(await page.isVisible('#notice')).toBe(true);
      expect(await markText(page)).toBe(shown);
      lose = false;
      await (await page.$$('nav button'))[1]!.click();
      await showsMarked(page, squeeze(quoteText(answer, 2)));
      expect(await page.isVisible('#notice')).toBe(false);
      await page.close();
    },
  );
});

/** The data endpoint's answer for a page URL, with the launch data of `from`. */
async function viewData(pageUrl: string, from: { id: number }): Promise<any> {
  const res = await fetch(`${origin}/viewer/api/view${new URL(pageUrl).search}`, {
    headers: { Authorization: `tma ${launchData(from)}` },
  });
  expect(res.status).toBe(200);
  return res.json();
}
/** The marked text of the data endpoint's blocks. */
const marked = (data: any) =>
  data.blocks.flatMap((b: any) => b.parts.filter((p: any) => p[1] > 0).map((p: any) => p[0])).join(' ');

describe('every format the indexer reads', () => {
  const cases = [
    { q: 'When does the community garden open on Saturday?', doc: 'handbook.pdf' },
    { q: "When do the volunteers' morning shifts start and end?", doc: 'volunteers.docx', heading: true },
    { q: 'Which fund paid for the repairs, and how much did they cost?', doc: 'bridge.html' },
    { q: 'Who runs the food bank?', doc: 'faq.md', heading: true },
    { q: 'Сколько книг читатель может взять домой?', doc: 'library-rules.txt' },
  ];
  it.each(cases)(
    "$doc: the quote is marked in the document's text, with its title, ¶ and headings",
    async ({ q, doc, heading }) => {
      const x = await ask(user(520), q);
      const answer = x.sent.at(-1)!;
      expect(answer.plain).toContain(`(${doc})`);
      const data = await viewData(buttons(answer).find((b) => b.web_app).web_app.url, user(520));
      expect(data.file).toBe(doc);
      expect(data.blocks[0].n).toBe(0); // the title first
      expect(squeeze(marked(data))).toBe(squeeze(quoteText(answer)));
      if (heading) expect(data.blocks.some((b: any) => b.heading && b.n > 0)).toBe(true);
    },
  );
});

describe('where the viewer is served', () => {
  it('beside the webhook on the same port (webhook mode), and alone on PORT (polling mode)', async () => {
    const hook = await serveWebhook(run.bot, {
      url: `${origin}/hook`,
      secret: 'viewer-test',
      port: 0,
      healthy: async () => true,
      also: (req, res) => run.viewer!.handle(req, res),
    });
    const alone = await serveViewer(run.viewer!, 0, '127.0.0.1');
    try {
      for (const server of [hook.server, alone]) {
        const at = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        expect((await fetch(`${at}/viewer/`)).headers.get('content-security-policy')).toContain("default-src 'none'");
        expect((await fetch(`${at}/viewer/api/view?v=x`)).status).toBe(401);
        expect((await fetch(`${at}/elsewhere`)).status).toBe(404);
      }
      expect(
        (await fetch(`http://127.0.0.1:${(hook.server.address() as AddressInfo).port}/hook`, { method: 'POST' }))
          .status,
      ).toBe(401); // still the webhook's
    } finally {
      await hook.stop();
      await new Promise((resolve) => alone.close(resolve));
      await run.bot.api.deleteWebhook();
    }
  });
});

describe('security of the data endpoint', () => {
  let url: string;
  beforeAll(async () => {
    const x = await ask(user(504), 'When does the community garden open on Saturday?');
    url = buttons(x.sent.at(-1)).find((b) => b.web_app).web_app.url;
  });
  const api = (pageUrl: string, headers: Record<string, string> = {}) => {
    const u = new URL(pageUrl);
    return fetch(`${origin}/viewer/api/view${u.search}`, { headers });
  };

  it('valid initData: 200 and the document; missing, forged, stale or for another bot: 401 with no text', async () => {
    const ok = await api(url, { Authorization: `tma ${launchData(user(504))}` });
    expect(ok.status).toBe(200);
    expect(JSON.stringify(await ok.json())).toContain('community garden');
    const forged = launchData(user(504)).replace(/hash=([0-9a-f])/, (_, c) => `hash=${c === '0' ? '1' : '0'}`);
    const otherUser = launchData(user(504)).replace('%22id%22%3A504', '%22id%22%3A42'); // the admin's id, signature kept
    const cases = {
      missing: {},
      forged: { Authorization: `tma ${forged}` },
      'user changed': { Authorization: `tma ${otherUser}` },
      stale: { Authorization: `tma ${launchData(user(504), new Date(Date.now() - 25 * 3600_000))}` },
      'another bot': { Authorization: `tma ${launchData(user(504), new Date(), '999:OTHER-TOKEN-0123456789abcdef')}` },
    };
    for (const [name, headers] of Object.entries(cases)) {
      const res = await api(url, headers);
      const body = await res.text();
      expect(res.status, name).toBe(401);
      expect(body, name).not.toContain('garden');
    }
  });

  it('a user the bot would not answer (revoked by an admin) gets 401', async () => {
    await run.exchange(() => fake.sendCommand(ADMIN, 'revoke', '505'));
    const res = await api(url, { Authorization: `tma ${launchData(user(505))}` });
    expect(res.status).toBe(401);
  });

  it('the page: a strict Content-Security-Policy, no document text in it; the script makes no HTML from data', async () => {
    const res = await fetch(url);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe');
    expect(await res.text()).not.toContain('garden');
    const script = await (await fetch(`${origin}/viewer/app.js`)).text();
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    expect(script).not.toMatch(/https?:\/\/(?!web\.telegram\.org)/);
  });

  it('paths never reach the file system: only the page, its two files and the endpoint', async () => {
    for (const p of [
      '/viewer/../package.json',
      '/viewer/%2e%2e/package.json',
      '/viewer/assets/app.js',
      '/viewer/index.html',
      '/viewer/api/view/../../.env',
    ]) {
      const res = await fetch(`${origin}${p}`);
      expect([401, 404], p).toContain(res.status);
      expect(await res.text(), p).not.toContain('"name": "cite"');
    }
    // A document is addressed by its id in the index; a file name in its place is no id.
    const u = new URL(url);
    u.searchParams.set('v', u.searchParams.get('v')!.replace(/^[0-9a-f]{12}/, '..%2F..%2Fetc%2Fpasswd'));
    expect((await api(u.toString(), { Authorization: `tma ${launchData(user(504))}` })).status).toBe(401);
  });

  it.skipIf(!CHROMIUM)('forged launch data in the browser: an error page, no document text', async () => {
    const forged = launchData(user(504)).replace(/hash=([0-9a-f])/, (_, c) => `hash=${c === '0' ? '1' : '0'}`);
    const { page } = await open(launched(url, forged));
    expect(await page.$('mark')).toBeNull();
    const text = await page.textContent('body');
    expect(text).toContain('not valid');
    expect(text).not.toContain('garden');
    await page.close();
  });
});

describe('groups: a signed link instead of web_app', () => {
  const GROUP = { id: -100777, type: 'supergroup' as const, title: 'Readers' };

  it.skipIf(!CHROMIUM)('opens the quote without initData; a forged, altered or expired token is refused', async () => {
    const x = await ask(user(506), `@${fake.me.username} When does the community garden open on Saturday?`, GROUP);
    const answer = x.sent.at(-1)!;
    const links = buttons(answer).filter((b) => b.url);
    expect(buttons(answer).some((b) => b.web_app)).toBe(false);
    expect(links.length).toBeGreaterThan(0);
    const { page } = await open(links[0].url);
    expect(squeeze(await markText(page))).toBe(squeeze(quoteText(answer)));
    await page.close();

    const u = new URL(links[0].url);
    const token = u.searchParams.get('t')!;
    const call = (t: string, v = u.searchParams.get('v')!) =>
      fetch(`${origin}/viewer/api/view?v=${v}&i=0&t=${encodeURIComponent(t)}`);
    expect((await call(token)).status).toBe(200);
    const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    expect((await call(flipped)).status).toBe(401);
    // The same token for other quotes (another document), and one whose expiry was pushed on.
    const other = u.searchParams.get('v')!.replace(/^[0-9a-f]{12}/, '000000000000');
    expect((await call(token, other)).status).toBe(401);
    const [exp, ...rest] = token.split('.');
    expect((await call([(parseInt(exp!, 36) + 86400).toString(36), ...rest].join('.'))).status).toBe(401);
    const expired = run.viewer!.signer.sign(u.searchParams.get('v')!, {
      user: 506,
      chat: GROUP.id,
      expires: Math.floor(Date.now() / 1000) - 1,
    });
    expect((await call(expired)).status).toBe(401);
  });
});

describe('inline mode', () => {
  it.skipIf(!CHROMIUM)(
    '@bot question: up to five passages with references, each message with a viewer link that opens at it',
    async () => {
      const id = fake.sendInlineQuery(user(507), 'When does the community garden open on Saturday?');
      await run.drained();
      const answer = fake.inlineAnswers.find((a) => a.inline_query_id === id)!;
      expect(answer.results.length).toBeGreaterThan(0);
      expect(answer.results.length).toBeLessThanOrEqual(5);
      expect(answer.is_personal).toBe(true);
      const first = answer.results[0];
      expect(first.title).toContain('Riverside Community Handbook');
      expect(answer.plain[0]).toMatch(/^According to «Riverside Community Handbook», p\. 2 ¶/);
      const link = first.reply_markup.inline_keyboard[0][0].url as string;
      const { page } = await open(link);
      const blockquote = answer.plain[0]!.split('\n').slice(1).join('\n').replace(/^… /, '').replace(/ …$/, '');
      expect(squeeze(await markText(page))).toBe(squeeze(blockquote));
      await page.close();
    },
  );

  it("the same decision as the bot: an unsure answer is hedged in every result's message, as in the chat", async () => {
    const q = 'Who is the chairman of the Riverside Community Association?';
    const chat = (await ask(user(514), q)).sent.at(-1)!;
    expect(chat.plain.startsWith(TEXTS.en.hedged)).toBe(true); // unsure in this collection
    const id = fake.sendInlineQuery(user(514), q);
    await run.drained();
    const answer = fake.inlineAnswers.find((a) => a.inline_query_id === id)!;
    expect(answer.plain.length).toBeGreaterThan(0);
    for (const message of answer.plain) expect(message.startsWith(`${TEXTS.en.hedged}\n\nAccording to «`)).toBe(true);
  });

  it("a sure answer's close passages: under the hedge line in their own results only, as below the chat's sure quotes", async () => {
    const q = 'Who signed the order to mark Memorial Day?';
    const chat = (await ask(user(515), q)).sent.at(-1)!;
    expect(chat.plain).toMatch(/^1\. According to «/);
    expect(chat.plain).toContain(`\n\n${TEXTS.en.alsoClose}\n\n2. According to «`);
    const id = fake.sendInlineQuery(user(515), q);
    await run.drained();
    const hedged = fake.inlineAnswers
      .find((a) => a.inline_query_id === id)!
      .plain.map((message: string) => message.startsWith(`${TEXTS.en.hedged}\n\nAccording to «`));
    expect(hedged[0]).toBe(false);
    expect(hedged.slice(1)).toContain(true);
    expect(hedged).toEqual([...hedged].sort((a, b) => Number(a) - Number(b))); // the sure ones first
  });

  it('a question the documents do not cover: one result saying so', async () => {
    const id = fake.sendInlineQuery(user(508), 'What is the boiling point of water at sea level?');
    await run.drained();
    const answer = fake.inlineAnswers.find((a) => a.inline_query_id === id)!;
    expect(answer.results).toHaveLength(1);
    expect(answer.results[0].title).toBe('The documents do not cover this');
  });

  it("the questions' rate limit: over it, no results and a button saying so", async () => {
    const limited = await startBot(engine, { ...env, RATE_LIMIT_PER_MINUTE: '1' });
    try {
      const ids = [
        limited.fake.sendInlineQuery(user(512), 'When does the community garden open?'),
        limited.fake.sendInlineQuery(user(512), 'When does the community garden open on Saturday?'),
      ];
      await limited.drained();
      const [first, second] = ids.map((id) => limited.fake.inlineAnswers.find((a) => a.inline_query_id === id)!);
      expect(first!.results.length).toBeGreaterThan(0);
      expect(second!.results).toEqual([]);
      expect(second!.button.text).toBe('Too many questions: try again in a minute');
    } finally {
      await limited.stop();
    }
  });

  it('a user who may not ask gets no results', async () => {
    await run.exchange(() => fake.sendCommand(ADMIN, 'revoke', '513'));
    const id = fake.sendInlineQuery(user(513), 'When does the community garden open on Saturday?');
    await run.drained();
    expect(fake.inlineAnswers.find((a) => a.inline_query_id === id)!.results).toEqual([]);
  });
});

describe('reply to a quote', () => {
  it('quoting part of an answer: the whole paragraph around it, and other documents on this', async () => {
    const x = await ask(user(509), 'How many Azerbaijanis were expelled in 1948-1953?');
    const answer = x.sent.at(-1)!;
    const part = '150 thousand Azerbaijanis were expelled from their historical lands in Armenia';
    const reply = await run.exchange(() =>
      fake.sendText(user(509), 'Tell me more', undefined, { reply_to_message: answer, quote: part }),
    );
    const text = reply.sent.map((m) => m.plain).join('\n');
    expect(text).toContain('The whole paragraph. According to');
    expect(text).toContain('The hostility policy of Armenians against our people begins'); // the paragraph's first sentence
    expect(reply.sent[0]!.text).toContain(`<b>${part}</b>`);
    expect(text).toMatch(/Other documents on this:|No other document says anything close to this\./);
    const others = reply.sent.flatMap((m) => [...m.plain.matchAll(/\(([^()\s]+\.(?:txt|pdf))\):/g)].map((mm) => mm[1]));
    expect(others[0]).toBe('000_92e0774dab2a344f.txt');
    expect(others.slice(1)).not.toContain('000_92e0774dab2a344f.txt');
  });

  it('a reply without a quote is a new question', async () => {
    const x = await ask(user(510), 'How many Azerbaijanis were expelled in 1948-1953?');
    const reply = await run.exchange(() =>
      fake.sendText(user(510), 'When does the community garden open on Saturday?', undefined, {
        reply_to_message: x.sent.at(-1),
      }),
    );
    expect(reply.sent.at(-1)!.plain).toContain('Riverside Community Handbook');
  });
});

describe('the document changed after the answer', () => {
  it.skipIf(!CHROMIUM)(
    'the page says so and marks where the quote is now, or says it is gone',
    async () => {
      const x = await ask(user(511), 'What did the glockenspiel orchestra of the town do on Sunday?');
      const url = buttons(x.sent.at(-1)).find((b) => b.web_app).web_app.url;
      const quote = quoteText(x.sent.at(-1)!);
      // A paragraph added before: the quote moved.
      writeFileSync(
        path.join(seeds, LETTERS_FILE),
        LETTERS_DOC.replace('\n\n', '\n\nA new first paragraph about the weather in the town.\n\n'),
      );
      await engine.reindex();
      let { page } = await open(launched(url, launchData(user(511))));
      expect(await page.textContent('#notice')).toContain('The quote is still in it');
      expect(squeeze(await markText(page))).toBe(squeeze(quote));
      expect(await page.$eval('mark', (m) => m.closest('p')!.querySelector('.n')!.textContent)).toBe('¶2');
      await page.close();
      // The quoted text removed.
      writeFileSync(
        path.join(seeds, LETTERS_FILE),
        'Xəbərlər və Новости\n\nThe glockenspiel orchestra will play again in May.\n',
      );
      await engine.reindex();
      ({ page } = await open(launched(url, launchData(user(511)))));
      expect(await page.textContent('#notice')).toContain('no longer in it');
      expect(await page.$('mark')).toBeNull();
      await page.close();
    },
    60_000,
  );
});

describe('stored texts', () => {
  it('a build from before paragraphs were stored is laid out as plain text is read; a missing texts file means no viewer', async () => {
    const { LiveTexts } = await import('../src/telegram/viewer/documents.js');
    const { FileIndexStore } = await import('../src/index/fileStore.js');
    const { buildFolder } = await import('../src/index/generation.js');
    const { documentId } = await import('../src/telegram/viewer/links.js');
    const { sha256 } = await import('../src/index/layout.js');
    const build = tmp();
    const text = 'Old title\n\nFirst paragraph of the old build.\n\nSecond paragraph of the old build.\n';
    const data = Buffer.from(JSON.stringify({ hash: 'a'.repeat(64), text }) + '\n');
    writeFileSync(path.join(build, 'texts.jsonl'), data);
    const manifest = {
      ...engine.manifest,
      documents: [{ ...engine.manifest.documents[0]!, file: 'old.txt', title: 'Old title', hash: 'a'.repeat(64) }],
      checksums: { 'texts.jsonl': sha256(data) },
    };
    const textsOf = (live: LiveGeneration) => new FileIndexStore(tmp()).texts(live);
    const texts = new LiveTexts(() => ({ generation: buildFolder(build), manifest }), textsOf);
    expect(texts.available).toBe(true);
    const { laid } = texts.document(documentId('old.txt'))!;
    expect(laid.blocks.map((b) => [b.paragraph, text.slice(b.start, b.end)])).toEqual([
      [0, 'Old title'],
      [1, 'First paragraph of the old build.'],
      [2, 'Second paragraph of the old build.'],
    ]);
    expect(texts.document('000000000000')).toBeUndefined();
    expect(new LiveTexts(() => ({ generation: buildFolder(tmp()), manifest }), textsOf).available).toBe(false);
  });
});

describe('stored texts that would not open', () => {
  it('are opened again a minute later (too many open files passes), not kept off for the whole index, nor logged at every answer', async () => {
    const { LiveTexts } = await import('../src/telegram/viewer/documents.js');
    const { log } = await import('../src/log.js');
    const error = vi.spyOn(log, 'error').mockImplementation(() => undefined);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const reader = { get: () => undefined } as unknown as TextsReader;
      let failing = true;
      const textsOf = vi.fn(() => {
        if (failing) throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
        return reader;
      });
      const texts = new LiveTexts(() => ({ generation: engine.live.generation, manifest: engine.manifest }), textsOf);
      expect(texts.available).toBe(false);
      expect(texts.available).toBe(false);
      expect([textsOf.mock.calls.length, error.mock.calls.length]).toEqual([1, 1]);
      failing = false;
      vi.advanceTimersByTime(59_000);
      expect(texts.available).toBe(false);
      vi.advanceTimersByTime(1_000);
      expect(texts.available).toBe(true);
      expect(textsOf).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
      error.mockRestore();
    }
  });
});

describe('requests anyone can send', () => {
  it('a request target that is no URL gets 400; the viewer process keeps serving', async () => {
    // Its own process: the throw escaping the request listener used to end it (exit 1).
    const child = await childServer(
      `import { Viewer, serveViewer } from './src/telegram/viewer/server.ts';
      const texts = { available: true, document: () => undefined, titleOf: () => undefined, hashOf: () => undefined };
      const viewer = new Viewer({ url: 'https://example.org/viewer', botToken: '1:x', linkHours: 1 }, texts, async () => true);
      const server = await serveViewer(viewer, 0, '127.0.0.1');
      process.stdout.write('PORT ' + server.address().port + '\\n');`,
    );
    const answer = await Promise.race([
      rawRequest(child.port, 'GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      child.exited.then((code) => `exited: ${code}`),
    ]);
    expect(answer, child.stderr()).toMatch(/^HTTP\/1\.1 400 /);
    expect((await fetch(`http://127.0.0.1:${child.port}/viewer/`)).status).toBe(200);
    expect(child.stderr()).toBe('');
    await child.stop();
  });

  describe('a forged quote reference costs about one pass over the document', () => {
    /** A document of `n` two-sentence paragraphs (about 80 characters each), laid out as the viewer reads it. */
    const report = (n: number, first = '') => {
      const paragraphs = Array.from(
        { length: n },
        (_, i) => `Paragraph ${i} says something about the town. It met on day ${i} of the year.`,
      );
      const text = `A Report\n\n${first}${paragraphs.join('\n\n')}\n`;
      const laid: Laid = {
        text,
        blocks: [{ start: 0, end: 8, paragraph: 0, heading: true }, ...cleanDocument(text).paragraphs],
      };
      const doc = { file: 'report.txt', title: 'A Report', hash: fingerprint(text).repeat(6), chunks: 1, mtimeMs: 0 };
      return { text, laid, doc: doc as unknown as ManifestDocument };
    };
    /** Anyone who may open the viewer can send these: ink counts (up to 36^8) and digests they made up. */
    const forged = (text: string): QuoteRef[] => {
      const half = Math.floor(inkCount(text) / 2);
      const ref = { doc: documentId('report.txt'), start: 0, print: '0', sentencePrint: '0' };
      return [
        { ...ref, hash: '0', mark: [0, 36 ** 8 - 1], sentence: [0, 36 ** 8 - 1] },
        { ...ref, hash: '0', mark: [0, half], sentence: [0, Math.floor(half / 2)] }, // fits the document's first half
        { ...ref, hash: fingerprint(text), mark: [0, 36 ** 8 - 1], sentence: [5, 36 ** 8 - 1] }, // the right hash
      ];
    };
    const work = (found: () => unknown) => {
      digested.chars = 0;
      expect(found()).toBeUndefined();
      return digested.chars;
    };

    it('120 KB: at most 50 characters digested per character of the document (it took 7 s, 2,400 each)', () => {
      const { text, laid, doc } = report(1500);
      for (const ref of forged(text)) expect(work(() => locate(doc, laid, ref))).toBeLessThan(50 * text.length);
    });

    it('2 MB, the largest document read: likewise, and answered in a fraction of a second', () => {
      const { text, laid, doc } = report(25_000);
      expect(text.length).toBeGreaterThan(2_000_000);
      for (const ref of forged(text)) {
        const started = performance.now();
        expect(work(() => locate(doc, laid, ref))).toBeLessThan(50 * text.length);
        // Generous for a loaded machine: the quadratic search took hours here.
        expect(performance.now() - started).toBeLessThan(3000);
      }
    });

    it('a real quote that moved to the end of a 2 MB document is still found', () => {
      const before = report(25_000);
      const quoted = 'Paragraph 24998 says something about the town. It met on day 24998 of the year.';
      const start = before.text.indexOf(quoted);
      const sentence = 'It met on day 24998 of the year.';
      const ref: QuoteRef = {
        doc: documentId('report.txt'),
        hash: before.doc.hash.slice(0, 12),
        start,
        mark: [0, inkCount(quoted)],
        sentence: [inkCount(quoted) - inkCount(sentence), inkCount(quoted)],
        print: fingerprint(quoted.replace(/\s+/g, '')),
        sentencePrint: fingerprint(sentence.replace(/\s+/g, '')),
      };
      expect(locate(before.doc, before.laid, ref)?.status).toBe('same');
      const after = report(25_000, 'A new first paragraph about the weather in the town.\n\n');
      const at = locate(after.doc, after.laid, ref)!;
      expect(at.status).toBe('moved');
      expect(after.text.slice(...at.mark)).toBe(quoted);
      expect(after.text.slice(...at.sentence)).toBe(sentence);
    });
  });
});
