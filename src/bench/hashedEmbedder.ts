import { terms } from '../text/terms.js';
import type { Embedder } from '../vectors/embedder.js';

/**
 * A cheap stand-in for the model where embedding a collection would take days here (the 1,000,000
 * passage run): each word gets a fixed pseudo-random direction, a text the normalised sum of its
 * words' directions. Texts sharing words are near each other, so an HNSW graph over these vectors
 * has neighbourhoods to find (uniform random vectors have none) — but they are not the model's
 * vectors: recall measured on them says how pgvector copes with the size, not with the model.
 */
export class HashedEmbedder implements Embedder {
  readonly modelId = 'hashed-words (bench stand-in)';
  readonly identity: string;
  private readonly directions = new Map<string, Float32Array>();

  constructor(readonly dim = 384) {
    this.identity = `hashed-words:${dim}`;
  }

  async embedPassages(texts: string[], onBatch?: (done: number) => void): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const [i, text] of texts.entries()) {
      out.push(this.embed(text));
      if (i % 10_000 === 9_999) {
        onBatch?.(i + 1);
        await new Promise((r) => setImmediate(r)); // let progress and timers run
      }
    }
    onBatch?.(texts.length);
    return out;
  }

  async embedQuery(text: string): Promise<Float32Array> {
    return this.embed(text);
  }

  private embed(text: string): Float32Array {
    const v = new Float32Array(this.dim);
    for (const t of terms(text)) {
      const d = this.direction(t);
      for (let i = 0; i < this.dim; i++) v[i]! += d[i]!;
    }
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < this.dim; i++) v[i]! /= norm;
    return v;
  }

  private direction(term: string): Float32Array {
    let d = this.directions.get(term);
    if (!d) {
      let state = 2166136261;
      for (let i = 0; i < term.length; i++) state = Math.imul(state ^ term.charCodeAt(i), 16777619) >>> 0;
      d = new Float32Array(this.dim);
      for (let i = 0; i < this.dim; i++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        d[i] = state / 4294967296 - 0.5;
      }
      this.directions.set(term, d);
    }
    return d;
  }
}
