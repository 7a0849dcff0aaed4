import { UNRELATED_SHARE, type Calibration } from '../index/calibration.js';
import type { ReplyShares } from '../retrieval/health.js';
import { percent } from './texts.js';

/**
 * The "not covered" gates described for people: measured and stored by the index
 * (index/calibration.ts), applied by retrieval, told to the administrator here.
 */

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
const MAX_OWN_DECLINED = 0.3;
/** … or lets more than this share of the off-topic probes through. */
const MAX_PROBES_ACCEPTED = 0.1;

/**
 * Plain-words warnings when the measured gate would decline much of what the documents answer or
 * quote much of what they do not (after documents changed, or with a model whose scores crowd
 * together), with what to do. Empty when it is healthy.
 */
export function gateWarnings(c: Calibration): string[] {
  const warnings: string[] = [];
  if (1 - c.pseudo.kept > MAX_OWN_DECLINED) {
    warnings.push(
      `WARNING: the "not covered" gate declines ${percent(1 - c.pseudo.kept)} of ${c.pseudo.questions} questions made from the documents' own passages ` +
        `(more than ${percent(MAX_OWN_DECLINED)}), so many questions the documents answer will get "not covered". ` +
        `What to do: re-index once more (npm run index or /reindex); if this stays, the documents read like everyday questions or the model's scores are too close together for them: ` +
        `set DENSE_THRESHOLD to about ${c.pseudo.p50.toFixed(3)} (the median of those questions) or use a stronger embedding model.`,
    );
  }
  const accepted = c.probeScores.accepted;
  if (accepted !== undefined && accepted > MAX_PROBES_ACCEPTED) {
    warnings.push(
      `WARNING: the "not covered" gate lets ${percent(accepted)} of ${c.probes} off-topic probe questions through (more than ${percent(MAX_PROBES_ACCEPTED)}), ` +
        `so questions the documents do not answer will be answered with unrelated quotes. ` +
        `What to do: re-index once more (npm run index or /reindex); if this stays, the model gives everything the same score: use another embedding model.`,
    );
  }
  return warnings;
}

/** The replies to the collection's own question-like texts, for people (see retrieval/health.ts). */
export function describeReplyShares(s: ReplyShares): string {
  return (
    `replies to ${s.questions} questions made from the documents' own passages: ` +
    `sure ${percent(s.sure)}, unsure ${percent(s.unsure)}, not covered ${percent(s.declined)}`
  );
}
