import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { DenseIndex } from '../index/dense.js';
import { pseudoQuestions } from '../index/sample.js';
import type { Embedder } from '../vectors/embedder.js';

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
  probeScores: z.object({ p50: z.number(), p95: z.number(), max: z.number() }),
  pseudo: z.object({ questions: z.number().int(), kept: z.number(), p50: z.number() }),
  /** Live passages when measured: measured again when the collection grew or shrank by > 10 %. */
  chunks: z.number().int(),
});
export type Calibration = z.infer<typeof calibrationSchema>;

/** Share of off-topic probes allowed to reach the gate. */
const OFFTOPIC_SHARE = 0.05;
/** Passages sampled for question-like texts. */
const PSEUDO_QUESTIONS = 100;

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
  const pseudo = await bestScores(pseudoQuestions(texts.filter((_, i) => i % step === 0).slice(0, PSEUDO_QUESTIONS)), embedder, dense);
  // The smallest score above all but OFFTOPIC_SHARE of the probes.
  const gate = quantile(probes, 1 - OFFTOPIC_SHARE) + 1e-6;
  return {
    dense: Number(gate.toFixed(6)),
    method: `the score reached by ${Math.round(OFFTOPIC_SHARE * 100)} % of ${probes.length} off-topic probe questions`,
    probes: probes.length,
    probeScores: { p50: quantile(probes, 0.5), p95: quantile(probes, 0.95), max: probes.at(-1) ?? NaN },
    pseudo: { questions: pseudo.length, kept: pseudo.filter((s) => s >= gate).length / Math.max(1, pseudo.length), p50: quantile(pseudo, 0.5) },
    chunks: liveChunks,
  };
}

/** One line for people: the gate and where it comes from. */
export function describeCalibration(c: Calibration): string {
  return (
    `"not covered" gate for this model: cosine ${c.dense.toFixed(3)} (${c.method}; ` +
    `off-topic median ${c.probeScores.p50.toFixed(3)}, max ${c.probeScores.max.toFixed(3)}; ` +
    `it keeps ${(100 * c.pseudo.kept).toFixed(0)} % of ${c.pseudo.questions} questions made from the passages)`
  );
}
