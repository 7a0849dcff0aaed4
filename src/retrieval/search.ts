import { sentenceSpans } from '../chunks/chunk.js';
import type { IndexData } from '../index/store.js';
import type { Embedder } from '../vectors/embedder.js';
import { LexicalIndex } from './lexical.js';
import { focusQuestion } from './terms.js';

export interface Hit {
  doc: string;
  title: string;
  paragraph: number;
  /** Fused relevance, 0..1 (1 = first in both the dense and the lexical ranking). */
  score: number;
  text: string;
  start: number;
  end: number;
  /** The sentence of `text` that best matches the question. */
  sentence: string;
  /** Cosine similarity of the chunk to the question (model-specific scale). */
  similarity: number;
  /** Share of the question's rare words present in the chunk, 0..1. */
  coverage: number;
  /** Reaches a threshold: worth quoting as an answer. */
  relevant: boolean;
}

export interface Answer {
  question: string;
  /** False when nothing in the documents is relevant enough: say so instead of quoting noise. */
  answered: boolean;
  hits: Hit[];
}

export type SearchMode = 'hybrid' | 'dense' | 'lexical';

export interface RetrievalSettings {
  efSearch: number;
  /** Cosine similarity (model-specific) at which a passage counts as answering. */
  denseThreshold: number;
  /** Share of the question's rare words a passage must contain to count as answering. */
  lexicalThreshold: number;
}

/** Reciprocal rank fusion constant: the usual 60 keeps one list's top rank from dominating. */
const RRF_K = 60;
/** How deep each ranking is read before fusion. */
const CANDIDATES = 50;

export class Retriever {
  readonly lexical: LexicalIndex;

  constructor(
    readonly index: IndexData,
    private readonly embedder: Embedder,
    private readonly settings: RetrievalSettings,
  ) {
    this.lexical = new LexicalIndex(index.chunks);
    index.hnsw.setEf(Math.max(settings.efSearch, CANDIDATES));
  }

  async search(asked: string, topK: number, mode: SearchMode = 'hybrid'): Promise<Answer> {
    const { chunks, hnsw, vectors, manifest } = this.index;
    const question = focusQuestion(asked);
    const q = await this.embedder.embedQuery(question);
    const n = Math.min(CANDIDATES, chunks.length);
    const dense = mode === 'lexical' ? [] : hnsw.searchKnn(Array.from(q), n).neighbors;
    const lexical = mode === 'dense' ? [] : this.lexical.query(question, n);

    const fused = new Map<number, number>();
    const lists = [dense, lexical].filter((l) => mode === 'hybrid' || l.length > 0);
    for (const list of lists) list.forEach((id, rank) => fused.set(id, (fused.get(id) ?? 0) + 1 / (RRF_K + rank + 1)));
    const best = lists.length / (RRF_K + 1);
    const ranked = [...fused.entries()].sort((a, b) => b[1] - a[1]).slice(0, topK);

    const hits: Hit[] = [];
    for (const [id, score] of ranked) {
      const c = chunks[id]!;
      const similarity = dot(q, vectors.subarray(id * manifest.dim, (id + 1) * manifest.dim));
      const coverage = this.lexical.coverage(question, c.text);
      hits.push({
        doc: c.doc,
        title: c.title,
        paragraph: c.paragraph,
        score: Number((score / best).toFixed(4)),
        text: c.text,
        start: c.start,
        end: c.end,
        sentence: await this.bestSentence(question, q, c.text),
        similarity,
        coverage,
        relevant:
          (mode !== 'lexical' && similarity >= this.settings.denseThreshold) ||
          (mode !== 'dense' && coverage >= this.settings.lexicalThreshold),
      });
    }
    return { question: asked, answered: hits.some((h) => h.relevant), hits };
  }

  /** The sentence sharing the most rare words with the question; by meaning when none share any. */
  private async bestSentence(question: string, q: Float32Array, text: string): Promise<string> {
    const sentences = sentenceSpans(text, 0, text.length).map((s) => text.slice(s.start, s.end));
    if (sentences.length <= 1) return sentences[0] ?? text;
    const lexical = sentences.map((s) => this.lexical.coverage(question, s));
    const top = Math.max(...lexical);
    if (top > 0) return sentences[lexical.indexOf(top)]!;
    // A question in another language shares no words with the text: compare meanings instead.
    const vectors = await this.embedder.embedPassages(sentences);
    const sims = vectors.map((v) => dot(q, v));
    return sentences[sims.indexOf(Math.max(...sims))]!;
  }
}

/** The `ask --json` contract: exactly these fields, whatever else a hit carries internally. */
export function toJson(answer: Answer) {
  return {
    question: answer.question,
    answered: answer.answered,
    hits: answer.hits.map(({ doc, title, paragraph, score, text, start, end, sentence }) => ({
      doc, title, paragraph, score, text, start, end, sentence,
    })),
  };
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
