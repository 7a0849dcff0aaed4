import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { quantile } from '../quantile.js';
import { questionParts } from '../text/asked.js';
import type { Embedder } from '../vectors/embedder.js';
import { dot, type DenseIndex } from './dense.js';
import { LexicalIndex } from './lexical.js';
import { pseudoQuestions } from './sample.js';

/** The support gate (applied by retrieval/support.ts): when a passage supports a part of a question by meaning. */
const supportGateSchema = z.object({
  /** Cosine between a part of a question and a passage at which the passage supports it by meaning. */
  gate: z.number(),
  /** Phrases (the asked-for part of questions cut from passages) it was measured with. */
  phrases: z.number().int(),
  /** Unrelated pairs (phrase, passage holding none of its words): the gate is their upper tail. */
  unrelated: z.object({ pairs: z.number().int(), p50: z.number(), max: z.number() }),
  /** Share of phrases whose own passage reaches the gate by meaning alone. */
  kept: z.number(),
});
export type SupportGate = z.infer<typeof supportGateSchema>;

/**
 * "Not covered" must not hang on a cosine value guessed for one model: every model has its own
 * scale (multilingual-e5 crowds everything between ~0.7 and 0.9, the test model spreads from 0 to
 * 1). So the dense gate is measured at index time, for the configured model and this collection:
 * off-topic probe questions (everyday subjects, in nine languages, shipped in offtopic.tsv) are
 * searched in the index, and the gate is the score that only OFFTOPIC_SHARE of them reach.
 * Question-like texts cut from the indexed passages show how much of the answerable side the gate
 * keeps.
 */
export const calibrationSchema = z.object({
  dense: z.number(),
  method: z.string(),
  probes: z.number().int(),
  /** `accepted`: share of the probes that reach the gate (absent in older indexes). */
  probeScores: z.object({ p50: z.number(), p95: z.number(), max: z.number(), accepted: z.number().optional() }),
  pseudo: z.object({ questions: z.number().int(), kept: z.number(), p50: z.number() }),
  /** Live passages when measured: measured again when the collection grew or shrank by > 10 %. */
  chunks: z.number().int(),
  /** When a passage supports a part of a question by meaning (see support.ts); absent in older indexes. */
  support: supportGateSchema.optional(),
});
export type Calibration = z.infer<typeof calibrationSchema>;

/** Share of off-topic probes allowed to reach the gate. */
const OFFTOPIC_SHARE = 0.05;
/** Passages sampled for question-like texts. */
const PSEUDO_QUESTIONS = 100;
/**
 * Share of unrelated (phrase, passage) pairs allowed to reach the support gate: each of the (up
 * to 10) passages a question is checked against gets its own chance, so OFFTOPIC_SHARE / 10 keeps
 * a question's chance of one unrelated passage passing within OFFTOPIC_SHARE.
 */
export const UNRELATED_SHARE = OFFTOPIC_SHARE / 10;

let probeCache: { lang: string; question: string }[] | undefined;

/** The shipped off-topic probe questions. */
export function offTopicProbes(): { lang: string; question: string }[] {
  probeCache ??= readFileSync(new URL('./offtopic.tsv', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.includes('\t'))
    .map((line) => {
      const [lang, question] = line.split('\t') as [string, string];
      return { lang, question: question.trim() };
    });
  return probeCache;
}

/** The best cosine of each question over the index. */
async function bestScores(questions: string[], embedder: Embedder, dense: DenseIndex): Promise<number[]> {
  const scores: number[] = [];
  for (const q of questions) scores.push((await dense.nearest(await embedder.embedQuery(q), 1)).sims[0] ?? -1);
  return scores.sort((a, b) => a - b);
}

/** Measures the gates for this model on this index; `texts` are a sample of its passages. */
export async function measureGates(
  embedder: Embedder,
  dense: DenseIndex,
  texts: string[],
  liveChunks: number,
): Promise<Calibration> {
  const probes = await bestScores(
    offTopicProbes().map((p) => p.question),
    embedder,
    dense,
  );
  const step = Math.max(1, Math.floor(texts.length / PSEUDO_QUESTIONS));
  const sampled = texts.filter((_, i) => i % step === 0).slice(0, PSEUDO_QUESTIONS);
  const pseudo = await bestScores(pseudoQuestions(sampled), embedder, dense);
  // The smallest score above all but OFFTOPIC_SHARE of the probes.
  const gate = quantile(probes, 1 - OFFTOPIC_SHARE) + 1e-6;
  return {
    dense: Number(gate.toFixed(6)),
    method: `the score reached by ${Math.round(OFFTOPIC_SHARE * 100)} % of ${probes.length} off-topic probe questions`,
    probes: probes.length,
    probeScores: {
      p50: quantile(probes, 0.5),
      p95: quantile(probes, 0.95),
      max: probes.at(-1) ?? NaN,
      accepted: probes.filter((s) => s >= gate).length / Math.max(1, probes.length),
    },
    pseudo: {
      questions: pseudo.length,
      kept: pseudo.filter((s) => s >= gate).length / Math.max(1, pseudo.length),
      p50: quantile(pseudo, 0.5),
    },
    chunks: liveChunks,
    support: await measureSupportGate(embedder, sampled),
  };
}

/**
 * The support gate: what a question made from a passage asks for (its words that are not names),
 * embedded as a query, against the passages. The pairs whose passage holds none of its words or
 * word forms are unrelated; the gate is the cosine only UNRELATED_SHARE of them reach. How many
 * phrases reach it with their own passage shows what meaning alone can confirm.
 */
async function measureSupportGate(embedder: Embedder, texts: string[]): Promise<SupportGate | undefined> {
  const words = LexicalIndex.build(
    texts.map((text, label) => ({ label, text, title: '' })),
    texts.length,
  );
  const phrases = pseudoQuestions(texts).map((q) => questionParts(q).asked.join(' '));
  const passages = await embedder.embedPassages(texts);
  const own: number[] = [];
  const unrelated: number[] = [];
  for (const [i, phrase] of phrases.entries()) {
    if (!phrase) continue;
    const v = await embedder.embedQuery(phrase);
    own.push(dot(v, passages[i]!));
    texts.forEach((text, j) => {
      if (j !== i && words.coverage(phrase, text) === 0) unrelated.push(dot(v, passages[j]!));
    });
  }
  if (unrelated.length === 0) return undefined;
  unrelated.sort((a, b) => a - b);
  const gate = quantile(unrelated, 1 - UNRELATED_SHARE) + 1e-6;
  return {
    gate: Number(gate.toFixed(6)),
    phrases: own.length,
    unrelated: { pairs: unrelated.length, p50: quantile(unrelated, 0.5), max: unrelated.at(-1)! },
    kept: own.filter((s) => s >= gate).length / Math.max(1, own.length),
  };
}
