import { sentenceSpans } from '../../text/sentences.js';
import { cleanDocument, type Span } from '../../documents/clean.js';
import { sameGeneration, type Generation, type LiveGeneration } from '../../index/generation.js';
import type { ManifestDocument } from '../../index/manifest.js';
import type { StoredText, TextsReader } from '../../index/texts.js';
import type { Engine } from '../../engine.js';
import { log } from '../../log.js';
import { documentId, fingerprint, type QuoteRef } from './links.js';

/** The engine's live index, read through its store. */
export const liveTextsOf = (engine: Pick<Engine, 'live' | 'storage'>) =>
  new LiveTexts(
    () => engine.live,
    (live) => engine.storage.index.texts(live),
  );

/** How long texts that would not open stay off before they are opened again. */
const RETRY_MS = 60_000;

/** What the viewer reads: the live index's documents by id, and their texts (undefined: no stored texts, e.g. PostgreSQL). */
export class LiveTexts {
  private opened:
    | {
        generation: Generation;
        reader: TextsReader | undefined;
        byId: Map<string, ManifestDocument>;
        /** When the texts would not open (too many open files, say): tried again after RETRY_MS, not logged at every answer. */
        failedAt?: number;
      }
    | undefined;
  /** The last few documents read (a reader scrolls through one document in several requests). */
  private readonly cache = new Map<string, Laid>();

  constructor(
    private readonly live: () => LiveGeneration,
    /** The store's reader of a generation's texts (index/store.ts `texts`). */
    private readonly textsOf: (live: LiveGeneration) => TextsReader | undefined,
  ) {}

  /** Whether the live index keeps the documents' texts (buttons to the viewer are offered only then). */
  get available(): boolean {
    return this.current().reader !== undefined;
  }

  private current() {
    const { generation, manifest } = this.live();
    const { opened } = this;
    const retry = opened?.failedAt !== undefined && Date.now() - opened.failedAt >= RETRY_MS;
    if (!opened || retry || !sameGeneration(opened.generation, generation)) {
      let reader: TextsReader | undefined;
      let failedAt: number | undefined;
      try {
        reader = this.textsOf({ generation, manifest });
      } catch (err) {
        log.error({ err }, 'the stored texts of the live index are unreadable; trying again in a minute');
        failedAt = Date.now();
      }
      const byId = new Map(manifest.documents.map((d) => [documentId(d.file), d]));
      this.opened = { generation, reader, byId, failedAt };
    }
    return this.opened!;
  }

  /** The live document with this id, laid out, or undefined when it is not in the index (any more). */
  document(id: string): { doc: ManifestDocument; laid: Laid } | undefined {
    const { reader, byId } = this.current();
    const doc = byId.get(id);
    if (!doc || !reader) return undefined;
    let laid = this.cache.get(doc.hash);
    if (!laid) {
      let stored: StoredText | undefined;
      try {
        stored = reader.get(doc.hash);
      } catch (err) {
        // Unreadable (the reader keeps its build's file open, so not for a commit since): the next request opens it again.
        log.warn({ err: (err as Error).message }, 'stored text not readable');
        this.opened = undefined;
      }
      if (!stored) return undefined;
      laid = layOut(doc, stored);
      this.cache.set(doc.hash, laid);
      if (this.cache.size > 8) this.cache.delete(this.cache.keys().next().value!);
    }
    return { doc, laid };
  }

  /** The title of the live document with this id (for the page's tabs), if it is there. */
  titleOf(id: string): string | undefined {
    return this.current().byId.get(id)?.title;
  }

  /** The file a hit names in the live index (for content hashes at answer time). */
  hashOf(file: string): string | undefined {
    return this.live().manifest.documents.find((d) => d.file === file)?.hash;
  }
}

/** A document as the viewer shows it: its text and its blocks (title first, then the paragraphs). */
export interface Laid {
  text: string;
  blocks: Span[];
}

/** Paragraphs as the reader stored them; for builds made before they were stored, as plain text is read. */
function layOut(doc: ManifestDocument, stored: StoredText): Laid {
  const spans = stored.paragraphs ?? cleanDocument(stored.text).paragraphs;
  const first = spans[0]?.start ?? stored.text.length;
  const titleAt = stored.text.indexOf(doc.title);
  const title: Span =
    titleAt >= 0 && titleAt < first
      ? { start: titleAt, end: titleAt + doc.title.length, paragraph: 0, heading: true }
      : { start: 0, end: 0, paragraph: 0, heading: true };
  return { text: stored.text, blocks: [title, ...spans] };
}

/** Where a quote is in a document's text now (characters), and how it was found. */
export interface Located {
  /** same: the document did not change; moved: it changed and the quote is elsewhere; sentence: only the marked sentence is left. */
  status: 'same' | 'moved' | 'sentence';
  mark: [number, number];
  sentence: [number, number];
}

/** The position just after the `count`-th ink character from `from` (`from` itself for 0). */
export function advance(text: string, from: number, count: number): number {
  let i = from;
  for (let seen = 0; seen < count && i < text.length; i++) if (!/\s/.test(text[i]!)) seen++;
  return i;
}
const skipSpace = (text: string, at: number) => {
  while (at < text.length && /\s/.test(text[at]!)) at++;
  return at;
};

/** The quote in the document's text: at its recorded place if the content is the same, else searched for by its digests. */
export function locate(doc: ManifestDocument, laid: Laid, ref: QuoteRef): Located | undefined {
  const { text } = laid;
  if (doc.hash.startsWith(ref.hash)) {
    const at = (ink: number, end: boolean) =>
      end ? advance(text, ref.start, ink) : skipSpace(text, advance(text, ref.start, ink));
    const mark: [number, number] = [at(ref.mark[0], false), at(ref.mark[1], true)];
    if (fingerprint(text.slice(mark[0], mark[1]).replace(/\s+/g, '')) === ref.print) {
      return { status: 'same', mark, sentence: [at(ref.sentence[0], false), at(ref.sentence[1], true)] };
    }
  }
  return search(laid, ref);
}

/**
 * What one search may digest, in ink characters: 32 per character of the document, at least 4 Mi
 * (for 2 MB 66 Mi, 0.1–0.2 s). The ink counts come from the request, so a forged reference must not cost
 * more: unbounded, it digested the rest of the document at every sentence start (7 s for 120 KB).
 * A real quote (hundreds of characters) at every sentence start of an ordinary document takes a
 * fraction of it; past it the search gives up (the page says the quote is gone).
 */
const searchBudget = (text: string) => Math.max(2 ** 22, 32 * text.length);

/**
 * A changed document: the excerpt, or else its sentence, is looked for at each sentence start of
 * the new text (an excerpt is made of whole sentences), comparing digests of their ink.
 */
function search(laid: Laid, ref: QuoteRef): Located | undefined {
  const { text } = laid;
  const ink = text.replace(/\s+/g, '');
  const markInk = ref.mark[1] - ref.mark[0];
  const sentenceInk = ref.sentence[1] - ref.sentence[0];
  const inSentence = ref.sentence[0] - ref.mark[0];
  let budget = searchBudget(text);
  // Whether the `length` ink characters from ink position `at` have this digest. A window past the
  // document's end cannot: the digest was made of exactly `length` characters.
  const matches = (at: number, length: number, print: string) => {
    if (at + length > ink.length || length > budget) return false;
    budget -= length;
    return fingerprint(ink.slice(at, at + length)) === print;
  };
  // Ink characters in text[0, counted): counted on from one sentence start to the next, once over the text.
  let counted = 0;
  let inkBefore = 0;
  let sentenceOnly: [number, number] | undefined;
  for (const block of laid.blocks.slice(1)) {
    for (const s of sentenceSpans(text, block.start, block.end)) {
      if (s.start < counted) [counted, inkBefore] = [0, 0]; // blocks out of order (not expected): counted again
      for (; counted < s.start; counted++) if (!/\s/.test(text[counted]!)) inkBefore++;
      if (matches(inkBefore, markInk, ref.print)) {
        const from = skipSpace(text, advance(text, s.start, inSentence));
        return {
          status: 'moved',
          mark: [s.start, advance(text, s.start, markInk)],
          sentence: [from, advance(text, from, sentenceInk)],
        };
      }
      if (!sentenceOnly && matches(inkBefore, sentenceInk, ref.sentencePrint))
        sentenceOnly = [s.start, advance(text, s.start, sentenceInk)];
    }
  }
  return sentenceOnly ? { status: 'sentence', mark: sentenceOnly, sentence: sentenceOnly } : undefined;
}

/** A block as the page gets it: ¶ (0 for the title), page, heading, and its text in pieces (0 plain, 1 quoted, 2 the marked sentence). */
export interface ShownBlock {
  n: number;
  page?: number;
  heading?: true;
  parts: [string, 0 | 1 | 2][];
}

/** Whitespace as a reader sees it: hard wraps joined ("Commander-in-\nChief"), every other run one space. */
export const tidy = (s: string) => s.replace(/(\p{L}-)[ \t]*\r?\n\s*(?=\p{L})/gu, '$1').replace(/\s+/g, ' ');

/** Blocks [from, to) of a document, the quote (if any) split out. */
export function shownBlocks(laid: Laid, from: number, to: number, found?: Located): ShownBlock[] {
  return laid.blocks.slice(from, to).map((b) => {
    const cuts = found ? [...found.mark, ...found.sentence].filter((c) => c > b.start && c < b.end) : [];
    const edges = [...new Set([b.start, ...cuts, b.end])].sort((x, y) => x - y);
    const parts: ShownBlock['parts'] = [];
    for (let i = 0; i + 1 < edges.length; i++) {
      const [s, e] = [edges[i]!, edges[i + 1]!];
      const kind = !found
        ? 0
        : s >= found.sentence[0] && e <= found.sentence[1]
          ? 2
          : s >= found.mark[0] && e <= found.mark[1]
            ? 1
            : 0;
      parts.push([tidy(laid.text.slice(s, e)), kind]);
    }
    if (parts[0]) parts[0][0] = parts[0][0].trimStart();
    if (parts.at(-1)) parts.at(-1)![0] = parts.at(-1)![0].trimEnd();
    return {
      n: b.paragraph,
      ...(b.page !== undefined ? { page: b.page } : {}),
      ...(b.heading ? { heading: true as const } : {}),
      parts: parts.filter((p) => p[0] !== ''),
    };
  });
}

/** The block holding a text position (the first one at or after it). */
export function blockAt(laid: Laid, at: number): number {
  const i = laid.blocks.findIndex((b, k) => k > 0 && b.end > at);
  return i < 0 ? laid.blocks.length - 1 : i;
}
