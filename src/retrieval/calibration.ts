import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { dot, type DenseIndex } from '../index/dense.js';
import { LexicalIndex } from '../index/lexical.js';
import { pseudoQuestions } from '../index/sample.js';
import type { Embedder } from '../vectors/embedder.js';
import { questionParts } from './asked.js';
import { supportGateSchema, type SupportGate } from './support.js';

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
const UNRELATED_SHARE = OFFTOPIC_SHARE / 10;

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

/** Nearest-rank quantile of ascending `sorted`. */
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;

/** The best cosine of each question over the index. */
async function bestScores(questions: string[], embedder: Embedder, dense: DenseIndex): Promise<number[]> {
  const scores: number[] = [];
  for (const q of questions) scores.push((await dense.nearest(await embedder.embedQuery(q), 1)).sims[0] ?? -1);
  return scores.sort((a, b) => a - b);
}

/** Measures the dense gate for this model on this index; `texts` are a sample of its passages. */
export async function calibrate(embedder: Embedder, dense: DenseIndex, texts: string[], liveChunks: number): Promise<Calibration> {
  const probes = await bestScores(offTopicProbes().map((p) => p.question), embedder, dense);
  const step = Math.max(1, Math.floor(texts.length / PSEUDO_QUESTIONS));
  const sampled = texts.filter((_, i) => i % step === 0).slice(0, PSEUDO_QUESTIONS);
  const pseudo = await bestScores(pseudoQuestions(sampled), embedder, dense);
  // The smallest score above all but OFFTOPIC_SHARE of the probes.
  const gate = quantile(probes, 1 - OFFTOPIC_SHARE) + 1e-6;
  return {
    dense: Number(gate.toFixed(6)),
    method: `the score reached by ${Math.round(OFFTOPIC_SHARE * 100)} % of ${probes.length} off-topic probe questions`,
    probes: probes.length,
    probeScores: { p50: quantile(probes, 0.5), p95: quantile(probes, 0.95), max: probes.at(-1) ?? NaN, accepted: probes.filter((s) => s >= gate).length / Math.max(1, probes.length) },
    pseudo: { questions: pseudo.length, kept: pseudo.filter((s) => s >= gate).length / Math.max(1, pseudo.length), p50: quantile(pseudo, 0.5) },
    chunks: liveChunks,
    support: await calibrateSupport(embedder, sampled),
  };
}

/**
 * The support gate: what a question made from a passage asks for (its words that are not names),
 * embedded as a query, against the passages. The pairs whose passage holds none of its words or
 * word forms are unrelated; the gate is the cosine only UNRELATED_SHARE of them reach. How many
 * phrases reach it with their own passage shows what meaning alone can confirm.
 */
async function calibrateSupport(embedder: Embedder, texts: string[]): Promise<SupportGate | undefined> {
  const words = LexicalIndex.build(texts.map((text, label) => ({ label, text, title: '' })), texts.length);
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

/** One line for people: the gate and where it comes from, then any warning about its health. */
export function describeCalibration(c: Calibration): string {
  return [
    `"not covered" gate for this model: cosine ${c.dense.toFixed(3)} (${c.method}; ` +
      `off-topic median ${c.probeScores.p50.toFixed(3)}, max ${c.probeScores.max.toFixed(3)}; ` +
      `it keeps ${(100 * c.pseudo.kept).toFixed(0)} % of ${c.pseudo.questions} questions made from the passages)`,
    ...(c.support
      ? [
          `what a question asks for must be in the passage as words or word forms, or reach cosine ${c.support.gate.toFixed(3)} by meaning ` +
            `(reached by ${(100 * UNRELATED_SHARE).toFixed(1)} % of ${c.support.unrelated.pairs} unrelated phrase–passage pairs)`,
        ]
      : []),
    ...gateWarnings(c),
  ].join('\n');
}

/**
 * The gate is unhealthy when it declines more than this share of the collection's own
 * question-like texts, … (the measure is the dense side alone, which the lexical side often
 * rescues: with the test model a healthy small collection varies between 10 and 25 % as
 * documents come and go, the unhealthy case the issue saw declined 56–60 %.)
 */
export const MAX_OWN_DECLINED = 0.3;
/** … or lets more than this share of the off-topic probes through. */
export const MAX_PROBES_ACCEPTED = 0.1;

/**
 * Plain-words warnings when the measured gate would decline much of what the documents answer or
 * quote much of what they do not (after documents changed, or with a model whose scores crowd
 * together), with what to do. Empty when it is healthy.
 */
export function gateWarnings(c: Calibration): string[] {
  const pct = (x: number) => `${Math.round(100 * x)} %`;
  const warnings: string[] = [];
  if (1 - c.pseudo.kept > MAX_OWN_DECLINED) {
    warnings.push(
      `WARNING: the "not covered" gate declines ${pct(1 - c.pseudo.kept)} of ${c.pseudo.questions} questions made from the documents' own passages ` +
        `(more than ${pct(MAX_OWN_DECLINED)}), so many questions the documents answer will get "not covered". ` +
        `What to do: re-index once more (npm run index or /reindex); if this stays, the documents read like everyday questions or the model's scores are too close together for them: ` +
        `set DENSE_THRESHOLD to about ${c.pseudo.p50.toFixed(3)} (the median of those questions) or use a stronger embedding model.`,
    );
  }
  const accepted = c.probeScores.accepted;
  if (accepted !== undefined && accepted > MAX_PROBES_ACCEPTED) {
    warnings.push(
      `WARNING: the "not covered" gate lets ${pct(accepted)} of ${c.probes} off-topic probe questions through (more than ${pct(MAX_PROBES_ACCEPTED)}), ` +
        `so questions the documents do not answer will be answered with unrelated quotes. ` +
        `What to do: re-index once more (npm run index or /reindex); if this stays, the model gives everything the same score: use another embedding model.`,
    );
  }
  return warnings;
}
