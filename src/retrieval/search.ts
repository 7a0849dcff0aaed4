import { pageAt, paragraphAt, partAt, type Chunk } from '../chunks/chunk.js';
import { sentenceSpans } from '../text/sentences.js';
import { dot, HnswIndex, type Neighbours } from '../index/dense.js';
import type { IndexData, LexicalSearch } from '../index/indexData.js';
import { LexicalIndex } from '../index/lexical.js';
import type { LexicalThread } from './lexicalThread.js';
import type { Embedder } from '../vectors/embedder.js';
import { questionParts } from '../text/asked.js';
import { PartSupport } from './support.js';
import { focusQuestion } from '../text/focus.js';
import { terms } from '../text/terms.js';

export interface Hit {
  doc: string;
  title: string;
  /** The paragraph (¶) of `sentence` once described; before that, of the passage's start. */
  paragraph: number;
  /** The paragraph number of each blank-line-separated part of `text`. */
  parts: number[];
  /** The page of `sentence` (of the passage's start until described); paged formats only (PDF). */
  page?: number;
  /** The page of each part of `text` (paged formats only). */
  pages?: number[];
  /** Parts of `text` that are headings: not chosen as the best sentence while a body sentence answers. */
  headings?: number[];
  /** Fused relevance, 0..1 (1 = first in both the dense and the lexical ranking). */
  score: number;
  text: string;
  start: number;
  end: number;
  /** The sentence of `text` that best matches the question ('' until described, see `describe`). */
  sentence: string;
  /** Cosine similarity of the chunk to the question (model-specific scale). */
  similarity: number;
  /** Share of the question's rare words present in the chunk, 0..1. */
  coverage: number;
  /** Reaches a threshold: worth quoting as an answer. */
  relevant: boolean;
  /**
   * Reaches a gate and holds the question's subject, not shown to hold what it asks: quoted under
   * the hedge line, also below a sure answer's sure passages (`relevant` implies it).
   */
  close: boolean;
  /** About the question's subject (`close`, or naming it): quoted, under the hedge line, when no hit is `relevant`. */
  about: boolean;
}

export interface Answer {
  question: string;
  /** False when nothing in the documents is relevant enough: say so instead of quoting noise. */
  answered: boolean;
  /** Answered, but no passage is sure to answer it: the closest ones are quoted under a hedge line. */
  hedged: boolean;
  hits: Hit[];
  /** The focused question and its vector, for describing more hits later (best sentences). */
  focus?: { text: string; vector: Float32Array };
}

export type SearchMode = 'hybrid' | 'dense' | 'lexical';

export interface RetrievalSettings {
  /** Overrides the efSearch measured at build time (HNSW only). */
  efSearch?: number;
  /** Cosine similarity at which a passage counts as answering; unset: the gate calibrated at index time. */
  denseThreshold?: number;
  /** Share of the question's rare words a passage must contain to count as answering. */
  lexicalThreshold: number;
}

/** Reciprocal rank fusion constant: the usual 60 keeps one list's top rank from dominating. */
const RRF_K = 60;
/** An index built before calibration existed: the value that was used then. */
const UNCALIBRATED_GATE = 0.85;
/** Query embeddings kept (see Retriever.embedQuery). */
const QUERY_VECTORS = 1000;
/** How deep each ranking is read before fusion. */
const CANDIDATES = 50;

export class Retriever {
  constructor(
    readonly index: IndexData,
    private readonly embedder: Embedder,
    private readonly settings: RetrievalSettings,
    /** Where BM25 runs beside the vector search (see lexicalThread.ts); unset: before it, here. */
    private readonly lexicalThread?: LexicalThread,
  ) {
    if (index.lexical instanceof LexicalIndex) lexicalThread?.serve(index.lexical);
    if (settings.efSearch && index.dense instanceof HnswIndex) index.dense.setEfSearch(settings.efSearch);
    this.denseGate = settings.denseThreshold ?? index.manifest.calibration?.dense ?? UNCALIBRATED_GATE;
  }

  /** The cosine at which a passage counts as answering (explicit, or calibrated for this model). */
  readonly denseGate: number;

  /**
   * Query embeddings of the latest texts (questions and the parts they ask for, see support.ts):
   * the same words come again — a question asked twice, "what happened" in many questions — and
   * a model call costs more than the rest of an answer. 1,000 vectors: 1.5 MB at dimension 384.
   */
  private readonly queryVectors = new Map<string, Promise<Float32Array>>();

  private embedQuery(text: string): Promise<Float32Array> {
    let vector = this.queryVectors.get(text);
    if (vector)
      this.queryVectors.delete(text); // re-inserted below: the Map's order is the recency
    else {
      const fresh = this.embedder.embedQuery(text);
      fresh.catch(() => this.queryVectors.get(text) === fresh && this.queryVectors.delete(text)); // a failed call is not remembered
      vector = fresh;
    }
    this.queryVectors.set(text, vector);
    if (this.queryVectors.size > QUERY_VECTORS) this.queryVectors.delete(this.queryVectors.keys().next().value!);
    return vector;
  }

  /** Forgets the remembered query embeddings: the bench times questions as if asked the first time. */
  forgetQuestions(): void {
    this.queryVectors.clear();
  }

  /**
   * The `topK` best passages for a question. Only the first `described` get their best sentence
   * now (the ones shown first; one batched embedding call at most); `describe` does the rest.
   */
  async search(asked: string, topK: number, mode: SearchMode = 'hybrid', described = topK): Promise<Answer> {
    const { dense, lexical } = this.index;
    const question = focusQuestion(asked);
    const embedding = this.embedQuery(question);
    await lexical.prepare?.(question);
    const { passages, similarityOf, best } = await this.candidates(question, embedding, mode);
    const q = await embedding;
    // At equal fused score, the passage holding more of the question's rare words first (one side's
    // top rank alone ties with the other side's: a passage sharing none of the words won on label).
    const coverageOf = memo((label: number) => lexical.coverage(question, passages.get(label)!.chunk.text));
    const ranked = rankedPassages([...passages.values()], coverageOf, topK);
    // The hits' vectors at once (one query for a database store).
    const vectors = await Promise.all(ranked.map(({ label }) => dense.vector(label)));
    const judge = this.judge(question, mode);
    const hits: Hit[] = [];
    for (const [i, { label, score, chunk }] of ranked.entries()) {
      const similarity = similarityOf.get(label) ?? dot(q, vectors[i]!);
      const coverage = coverageOf(label);
      const verdict = await judge(chunk.text, vectors[i]!, similarity, coverage);
      hits.push({ ...hitOf(chunk), score: Number((score / best).toFixed(4)), similarity, coverage, ...verdict });
    }
    const answered = hits.some((h) => h.about);
    const hedged = answered && !hits.some((h) => h.relevant);
    const answer: Answer = { question: asked, answered, hedged, hits, focus: { text: question, vector: q } };
    await this.describe(answer, 0, described);
    if (lexical instanceof LexicalIndex) this.lexicalThread?.warm(lexical);
    return answer;
  }

  /**
   * The candidates of both rankings fused by reciprocal rank, with their chunks (in fused order),
   * each one's cosine when the vector side found it, and the best fused score possible.
   */
  private async candidates(question: string, embedding: Promise<Float32Array>, mode: SearchMode) {
    const { chunks, dense } = this.index;
    // BM25 first: on the lexical thread it runs beside the model call and the vector search; else
    // here, while the model (which runs outside the main thread) embeds the question.
    const lexicalHits = mode === 'dense' ? undefined : this.lexicalQuery(question);
    const q = await embedding;
    const denseHits: Neighbours = mode === 'lexical' ? { labels: [], sims: [] } : await dense.nearest(q, CANDIDATES);
    const lexicalLabels = lexicalHits ? (await lexicalHits()).labels : [];
    const similarityOf = new Map(denseHits.labels.map((label, i) => [label, denseHits.sims[i]!]));
    const lists = [denseHits.labels, lexicalLabels].filter((l) => mode === 'hybrid' || l.length > 0);
    const fused = new Map<number, number>();
    for (const list of lists)
      list.forEach((label, rank) => fused.set(label, (fused.get(label) ?? 0) + 1 / (RRF_K + rank + 1)));
    // All candidates' chunks asked for at once (one query for a database store). A label the store no
    // longer has (a database reader one generation behind, its old rows just dropped) is skipped.
    const labels = [...fused.keys()];
    const found = await Promise.all(labels.map((label) => chunks.get(label)));
    const passages = new Map<number, { label: number; score: number; chunk: Chunk }>();
    labels.forEach((label, i) => found[i] && passages.set(label, { label, score: fused.get(label)!, chunk: found[i] }));
    return { passages, similarityOf, best: lists.length / (RRF_K + 1) };
  }

  /** BM25's candidates, started now (on the lexical thread when there is one and it holds this index); read by calling. */
  private lexicalQuery(question: string): () => ReturnType<LexicalSearch['query']> {
    const { lexical } = this.index;
    if (this.lexicalThread && lexical instanceof LexicalIndex)
      return this.lexicalThread.query(lexical, question, CANDIDATES);
    const result = lexical.query(question, CANDIDATES);
    if (result instanceof Promise) result.catch(() => {}); // awaited after the vector search
    return () => result;
  }

  /** How a question's passages are judged: `relevant` (quoted as sure), `close` and `about` (quoted under the hedge line). */
  private judge(question: string, mode: SearchMode) {
    const { lexical, manifest } = this.index;
    // Shared words prove nothing for such a question, and its meaning must match as closely as a
    // typical question made from a passage does.
    const offCorpus = namesWhatDocumentsNeverUse(question, lexical);
    const denseGate = offCorpus
      ? Math.max(this.denseGate, manifest.calibration?.pseudo.p50 ?? this.denseGate)
      : this.denseGate;
    // A passage that names the subject but not what is asked is no answer (see asked.ts, support.ts).
    const parts = questionParts(question);
    const support = new PartSupport(lexical, (text) => this.embedQuery(text), manifest.calibration?.support?.gate);
    return async (text: string, vector: Float32Array, similarity: number, coverage: number) => {
      const reaches =
        (mode !== 'lexical' && similarity >= denseGate) ||
        (mode !== 'dense' && !offCorpus && coverage >= this.settings.lexicalThreshold);
      const relevant = reaches && (await support.covers(parts, text, vector));
      // Close, or naming what the question names, but not shown to hold what it asks: quoted as
      // "may not answer exactly" rather than hidden (the reader judges the verbatim text). Even when
      // most of the question is in words the documents never use ("Azerbaijan's GDP"): the passages
      // naming its subject are what the documents hold about it, and hiding them hid answers asked
      // in the asker's own words ("breakaway administration" for "separatist regime").
      const close = relevant || (reaches && (await support.coversSubject(parts, text, vector)));
      const about = close || (mode !== 'dense' && support.namesSubject(parts, text));
      return { relevant, close, about };
    };
  }

  /**
   * Fills in the best sentence of hits [from, to): the one sharing the most rare words with the
   * question; by meaning when none shares any (all such sentences embedded in one call).
   */
  async describe(answer: Answer, from: number, to: number): Promise<void> {
    const focus = answer.focus;
    const pending = answer.hits.slice(from, to).filter((h) => !h.sentence);
    if (!focus || pending.length === 0) return;
    await this.index.lexical.prepare?.(focus.text);
    const byMeaning: { hit: Hit; sentences: string[] }[] = [];
    for (const hit of pending) {
      const sentences = bodySentences(hit);
      if (sentences.length <= 1) {
        mark(hit, sentences[0] ?? hit.text);
        continue;
      }
      const lexical = sentences.map((s) => this.index.lexical.coverage(focus.text, s));
      const top = Math.max(...lexical);
      if (top > 0) mark(hit, sentences[lexical.indexOf(top)]!);
      // A question in another language shares no words with the text: compare meanings instead.
      else byMeaning.push({ hit, sentences });
    }
    if (byMeaning.length === 0) return;
    const vectors = await this.embedder.embedPassages(byMeaning.flatMap((b) => b.sentences));
    let next = 0;
    for (const { hit, sentences } of byMeaning) {
      const sims = sentences.map(() => dot(focus.vector, vectors[next++]!));
      mark(hit, sentences[sims.indexOf(Math.max(...sims))]!);
    }
  }
}

/**
 * A question in the documents' language about something they never name ("What is Azerbaijan's
 * GDP?"): words the documents never use carry more than half of its weight (by rarity). A question
 * wholly in another language is not one (none of its words is known).
 */
function namesWhatDocumentsNeverUse(question: string, lexical: LexicalSearch): boolean {
  const unknown = lexical.unknownTerms(question);
  const words = [...new Set(terms(question))];
  const weight = (ts: string[]) => ts.reduce((sum, t) => sum + lexical.idf(t), 0);
  return unknown.length > 0 && unknown.length < words.length && weight(unknown) > 0.5 * weight(words);
}

/** The sentences of a hit that may be its best one: those outside headings, if any. */
function bodySentences(hit: Hit): string[] {
  const spans = sentenceSpans(hit.text, 0, hit.text.length);
  const body = hit.headings ? spans.filter((s) => !hit.headings!.includes(partAt(hit.text, s.start))) : spans;
  return (body.length > 0 ? body : spans).map((s) => hit.text.slice(s.start, s.end));
}

/** `f` computed once per argument. */
function memo<A, R>(f: (a: A) => R): (a: A) => R {
  const cache = new Map<A, R>();
  return (a) => {
    if (!cache.has(a)) cache.set(a, f(a));
    return cache.get(a)!;
  };
}

/** A hit's fields taken from its chunk, before it is scored, judged and described. */
function hitOf(c: Chunk): Omit<Hit, 'score' | 'similarity' | 'coverage' | 'relevant' | 'close' | 'about'> {
  return {
    doc: c.doc,
    title: c.title,
    paragraph: c.paragraph,
    parts: c.parts ?? [c.paragraph],
    ...(c.pages ? { page: c.pages[0], pages: c.pages } : {}),
    ...(c.headings ? { headings: c.headings } : {}),
    text: c.text,
    start: c.start,
    end: c.end,
    sentence: '',
  };
}

/** Sets a hit's best sentence, and its ¶ (and page) to the paragraph that sentence is in. */
function mark(hit: Hit, sentence: string): void {
  hit.sentence = sentence;
  const at = Math.max(0, hit.text.indexOf(sentence));
  hit.paragraph = paragraphAt({ text: hit.text, parts: hit.parts, paragraph: hit.paragraph }, at);
  if (hit.pages) hit.page = pageAt({ text: hit.text, pages: hit.pages }, at);
}

/**
 * The first `topK` distinct passages by fused score, then by coverage of the question, then by
 * label. Coverage is costly (every word of a passage against every word of the question), so it
 * is computed only inside the groups of equal score that are read before `topK` distinct passages
 * are found: the same order as sorting all candidates by all three keys, for a fraction of the
 * coverage calls (one side's rank r ties with the other side's rank r, so nearly every candidate
 * is in a tie).
 */
export function rankedPassages<T extends { label: number; score: number; chunk: PassagePlace }>(
  candidates: T[],
  coverageOf: (label: number) => number,
  topK: number,
): T[] {
  const byScore = [...candidates].sort((a, b) => b.score - a.score || a.label - b.label);
  const ordered: T[] = [];
  for (let i = 0; i < byScore.length; ) {
    let end = i + 1;
    while (end < byScore.length && byScore[end]!.score === byScore[i]!.score) end++;
    const group = byScore.slice(i, end);
    if (group.length > 1) group.sort((a, b) => coverageOf(b.label) - coverageOf(a.label) || a.label - b.label);
    ordered.push(...group);
    i = end;
    if (ordered.length >= topK && distinctPassages(ordered, topK).length >= topK) break;
  }
  return distinctPassages(ordered, topK);
}

/**
 * The first `count` candidates (best first) that share no text with a better one: overlapping
 * pieces of one long paragraph would otherwise be quoted twice, often with the same sentence, and
 * so would the same passage of two copies of a document (the better ranked one is quoted).
 */
export function distinctPassages<T extends { chunk: PassagePlace }>(ranked: T[], count: number): T[] {
  const kept: T[] = [];
  for (const candidate of ranked) {
    if (kept.length >= count) break;
    const { doc, start, end, text } = candidate.chunk;
    const repeats = ({ chunk: c }: T) =>
      (c.doc === doc && c.start < end && start < c.end) || (text !== undefined && c.text === text);
    if (!kept.some(repeats)) kept.push(candidate);
  }
  return kept;
}

/** Where a candidate passage is, and its text when known. */
type PassagePlace = { doc: string; start: number; end: number; text?: string };

export type Decision = 'sure' | 'unsure' | 'declined';

/** What the reply to an answer is: quoted as sure, quoted under the hedge line, or declined. */
export function decisionOf(answer: Answer): Decision {
  if (!answer.answered) return 'declined';
  return answer.hedged ? 'unsure' : 'sure';
}

/**
 * The passages a reply quotes, in its order: an unsure reply's passages about the question; a sure
 * reply's sure ones, then the close ones (under the hedge line: a passage holding the answer in
 * other words often ranks beside one holding the question's words, and the reader judges the
 * verbatim text); a declined question's nearest passages (whose titles the reply lists). Of the
 * shown hits, `relevant` says which are quoted as sure.
 */
export function shownHits(answer: Answer): Hit[] {
  if (!answer.answered) return answer.hits;
  if (answer.hedged) return answer.hits.filter((h) => h.about);
  return [...answer.hits.filter((h) => h.relevant), ...answer.hits.filter((h) => h.close && !h.relevant)];
}

/** Where the shown hits only about the question begin (their hedge line goes there); `hits.length` when all are sure. */
export function firstHedged(hits: Hit[]): number {
  const i = hits.findIndex((h) => !h.relevant);
  return i < 0 ? hits.length : i;
}

/**
 * The hits in the order the user sees them: a reply quotes only the shown hits (up to `shown`), so
 * those come first and "More results" goes on with the rest in ranking order — no hit is shown
 * twice or skipped, and numbering and "Full passage" match what is on screen.
 */
export function quotedFirst(answer: Answer, shown: number): Answer {
  const quoted = shownHits(answer).slice(0, shown);
  return { ...answer, hits: [...quoted, ...answer.hits.filter((h) => !quoted.includes(h))] };
}

/**
 * The `ask --json` contract: exactly these fields, whatever else a hit carries internally. An
 * answer's hits are the passages the text reply quotes, in its order, each `hedged` unless it is
 * quoted as sure; a declined question's are the nearest passages (the text reply lists their titles).
 */
export function toJson(answer: Answer, top = answer.hits.length) {
  const shown = shownHits(answer).slice(0, top);
  return {
    question: answer.question,
    answered: answer.answered,
    hedged: answer.hedged,
    hits: shown.map(({ doc, title, page, paragraph, score, text, start, end, sentence, relevant }) => ({
      doc,
      title,
      ...(page !== undefined ? { page } : {}),
      paragraph,
      score,
      text,
      start,
      end,
      sentence,
      hedged: !relevant,
    })),
  };
}
