/**
 * The viewer's data endpoint given tampered parameters by someone holding a valid link: answered
 * like any request (a document or a refusal), never a failure. A Viewer over one document laid
 * out in memory, served on 127.0.0.1.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestDocument } from '../src/index/manifest.js';
import { documentId, encodeRefs, fingerprint, type QuoteRef } from '../src/telegram/viewer/links.js';
import type { LiveTexts } from '../src/telegram/viewer/documents.js';
import { Viewer } from '../src/telegram/viewer/server.js';

const TEXT = 'A title\n\nThe first paragraph of the document.\n\nThe second paragraph, quoted here.\n';
const doc = { file: 'a.txt', title: 'A title', hash: 'ab'.repeat(32) } as ManifestDocument;
const laid = {
  text: TEXT,
  blocks: [
    { start: 0, end: 7, paragraph: 0, heading: true as const },
    { start: 9, end: 45, paragraph: 1 },
    { start: 47, end: 81, paragraph: 2 },
  ],
};
const texts = {
  available: true,
  document: (id: string) => (id === documentId(doc.file) ? { doc, laid } : undefined),
  titleOf: (id: string) => (id === documentId(doc.file) ? doc.title : undefined),
  hashOf: () => doc.hash,
} as unknown as LiveTexts;
const ink = (s: string) => s.replace(/\s+/g, '');
const ref: QuoteRef = {
  doc: documentId(doc.file),
  hash: doc.hash.slice(0, 12),
  start: 47,
  mark: [0, ink('The second paragraph, quoted here.').length],
  sentence: [0, ink('The second paragraph, quoted here.').length],
  print: fingerprint(ink('The second paragraph, quoted here.')),
  sentencePrint: fingerprint(ink('The second paragraph, quoted here.')),
};

let server: http.Server;
let viewer: Viewer;
let origin: string;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (!viewer.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  viewer = new Viewer({ url: `${origin}/viewer`, botToken: '123:TEST-TOKEN', linkHours: 1 }, texts, async () => true);
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** The endpoint's answer for a signed link to these quotes, with `params` changed. */
async function view(params: Record<string, string>) {
  const v = encodeRefs([ref, ref]);
  const t = viewer.signer.sign(v, { user: 7, expires: Math.floor(Date.now() / 1000) + 600 });
  const q = new URLSearchParams({ v, t, i: '0', l: 'en', ...params });
  const res = await fetch(`${origin}/viewer/api/view?${q}`);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

describe('tampered parameters of a valid link', () => {
  it('a quote number or a page start that is no whole number is read as one, not answered 500', async () => {
    const cases: Record<string, string>[] = [
      { i: '0.5' },
      { i: '1.5' },
      { i: '-0.5' },
      { from: '0.5' },
      { i: '1e400' },
    ];
    for (const params of cases) {
      const res = await view(params);
      expect(res.status, JSON.stringify(params)).toBe(200);
      expect(res.type).toBe('application/json; charset=utf-8');
      const body = JSON.parse(res.body);
      expect(Number.isInteger(body.selected), JSON.stringify(params)).toBe(true);
      expect(Number.isInteger(body.from), JSON.stringify(params)).toBe(true);
      expect(res.body).toContain('quoted here');
    }
  });
});
