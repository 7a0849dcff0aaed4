/**
 * "Not covered" decided the same way whatever the model's score scale: the dense gate is measured
 * at index time with off-topic probes. Two real models (the test model, and a variant whose cosines
 * are squeezed into ~0.75–1 like multilingual-e5's) must decide the same questions the same way
 * without any setting changed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { offTopicProbes } from '../src/index/calibration.js';
import { readQuestions } from '../src/retrieval/evaluate.js';
import { decisionOf } from '../src/retrieval/search.js';
import { DEV_SET, tempDirs } from './support/testModel.js';
import { plainAndSqueezed } from './support/twoModels.js';

const tempDir = tempDirs('cite-calibration-');

/** On the documents' subject, but not answered by them; and questions they do answer. */
const ON_TOPIC_UNANSWERED = [
  "What is Azerbaijan's GDP?",
  'Who won the 2018 World Cup?',
  'What is the inflation rate in Azerbaijan?',
];
const ANSWERED = [
  'How many Azerbaijanis were expelled in 1948-1953?',
  'Which trade union represents railway workers?',
  'What happened on 27 September 2020 according to the political parties?',
  'How many mine victims were police officers?',
];
const OFF_TOPIC = [
  'How do I bake sourdough bread?',
  'What is the boiling point of water at sea level?',
  'Какая завтра погода в Баку?',
  'Bu gün futbol oyunu kim qazandı?',
];

let plain: Engine;
let squeezed: Engine;

beforeAll(async () => {
  ({ plain, squeezed } = await plainAndSqueezed(tempDir));
}, 120_000);

const questions = () => [...ANSWERED, ...ON_TOPIC_UNANSWERED, ...OFF_TOPIC, ...readQuestions(DEV_SET).map((i) => i.q)];

describe('the dense gate is calibrated per model at index time', () => {
  it('ships a few hundred off-topic probes in at least nine languages', () => {
    const probes = offTopicProbes();
    expect(probes.length).toBeGreaterThanOrEqual(250);
    expect(new Set(probes.map((p) => p.lang))).toEqual(new Set(['en', 'ru', 'az', 'tr', 'de', 'fr', 'es', 'ar', 'zh']));
    const dev = new Set(readQuestions(DEV_SET).map((i) => i.q));
    expect(probes.filter((p) => dev.has(p.question))).toEqual([]); // the dev set measures, it is not trained on
  });

  it('stores the calibration in the manifest: a gate on each model’s own scale', () => {
    const a = plain.manifest.calibration!;
    const b = squeezed.manifest.calibration!;
    expect(a.probes).toBe(offTopicProbes().length);
    expect(a.dense).toBeLessThan(0.5); // the test model spreads cosines from 0 to 1
    expect(b.dense).toBeGreaterThan(0.75); // the squeezed one crowds them high, like e5
    for (const c of [a, b]) {
      expect(c.dense).toBeGreaterThanOrEqual(c.probeScores.p95); // at most ~5 % of off-topic probes reach it
      expect(c.pseudo.kept).toBeGreaterThan(0.7); // most questions cut from passages do
    }
  });

  it('the same questions get the same decisions (sure, unsure, declined) with both models, no setting changed', async () => {
    for (const q of questions()) {
      const [a, b] = [await plain.ask(q), await squeezed.ask(q)];
      expect([q, decisionOf(b)]).toEqual([q, decisionOf(a)]);
    }
  });

  it('the index’s own question-like texts are answered, with the same shares of sure and unsure with both models', async () => {
    const [a, b] = [await plain.ownReplyShares(), await squeezed.ownReplyShares()];
    expect(a.questions).toBe(50);
    expect(a.sure + a.unsure + a.declined).toBeCloseTo(1, 9);
    expect(a.declined).toBeLessThan(0.1);
    expect(b).toEqual(a);
  });

  it('a fixed threshold would not: 0.3, right for one scale, decides differently on the other', async () => {
    const fixed = (e: Engine) => Engine.open({ ...e.config, DENSE_THRESHOLD: 0.3 });
    const [a, b] = [await fixed(plain), await fixed(squeezed)];
    const decisions = async (e: Engine) =>
      Promise.all(questions().map(async (q) => (await e.ask(q, 3, 'dense')).answered));
    expect(await decisions(a)).not.toEqual(await decisions(b));
  });

  it.each(['en', 'ru', 'az', 'tr'] as const)('the example questions /help offers in %s are answered', async (lang) => {
    const { TEXTS } = await import('../src/replies/texts.js');
    expect(plain.manifest.examples.length).toBeGreaterThan(0);
    for (const subject of plain.manifest.examples) {
      const answer = await plain.ask(TEXTS[lang].exampleQuestion(subject));
      expect([subject, answer.answered]).toEqual([subject, true]);
      expect(answer.hits[0]!.text).toContain(subject);
    }
  });

  it('answers what the documents answer, never as sure what they do not, and declines what is off their subject', async () => {
    for (const engine of [plain, squeezed]) {
      for (const q of ANSWERED) expect([q, (await engine.ask(q)).answered]).toEqual([q, true]);
      // Named but unanswered: quoted under the hedge line at most (the reader sees the subject's passages).
      for (const q of ON_TOPIC_UNANSWERED) expect([q, decisionOf(await engine.ask(q))]).not.toEqual([q, 'sure']);
      for (const q of OFF_TOPIC) expect([q, decisionOf(await engine.ask(q))]).toEqual([q, 'declined']);
    }
  });
});
