/**
 * The gate's health, seen by an admin: a collection on which the measured "not covered" gate would
 * decline most of the documents' own questions (here: documents made of everyday questions, like
 * the off-topic probes) makes /stats and the /reindex result say so, and what to do.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { offTopicProbes } from '../src/index/calibration.js';
import { ADMIN, startBot, type RunningBot } from './support/botHarness.js';
import { tempDirs, testConfig, testModelDir } from './support/testModel.js';

const tmp = tempDirs('cite-gate-health-');
const WARNING =
  /WARNING: the "not covered" gate declines \d+ % of \d+ questions made from the documents' own passages .*What to do: re-index once more/s;
/** How the replies split over the documents' own question-like texts (the full decision, not the dense side alone). */
const SHARES =
  /^Questions made from the documents' own passages \(\d+\): answered \d+ %, closest passages shown \d+ %, not covered \d+ %\.$/m;

let run: RunningBot;
let seeds: string;

beforeAll(async () => {
  seeds = tmp();
  const questions = offTopicProbes().map((p) => p.question);
  writeFileSync(path.join(seeds, 'everyday.txt'), `Everyday questions\n\n${questions.join('\n\n')}\n`);
  const env = { EMBED_MODEL: await testModelDir(), INDEX_DIR: tmp(), SEEDS_DIR: seeds };
  run = await startBot(await Engine.open(testConfig(env)), env);
}, 60_000);

afterAll(async () => {
  await run?.stop();
  expect(run.errors).toEqual([]);
});

describe('an unhealthy "not covered" gate is reported to the admin', () => {
  it('/stats says the gate declines most of the documents’ own questions, and what to do', async () => {
    const { sent } = await run.exchange(() => run.fake.sendCommand(ADMIN, 'stats'));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.plain).toMatch(WARNING);
    expect(sent[0]!.plain).toMatch(SHARES);
  });

  it.each([
    ['ru', /ВНИМАНИЕ: порог «нет ответа» отклоняет \d+ % из \d+ вопросов/, /^Порог «нет ответа»: косинус 0\.\d{3} \(/m],
    [
      'az',
      /DİQQƏT: "cavab yoxdur" həddi .* \d+ sualdan \d+ % rədd edir/,
      /^"Cavab yoxdur" həddi: kosinus 0\.\d{3} \(/m,
    ],
    [
      'tr',
      /UYARI: "cevap yok" eşiği .* \d+ sorudan \d+ % oranını reddediyor/,
      /^"Cevap yok" eşiği: kosinüs 0\.\d{3} \(/m,
    ],
  ])(
    '/stats of an admin speaking %s says the gate and the warning in that language (they were English)',
    async (lang, warning, gate) => {
      const { sent } = await run.exchange(() => run.fake.sendCommand({ ...ADMIN, language_code: lang }, 'stats'));
      expect(sent[0]!.plain).toMatch(warning);
      expect(sent[0]!.plain).toMatch(gate);
      expect(sent[0]!.plain).not.toMatch(/WARNING|cosine|questions made|off-topic|phrase–passage/);
    },
  );

  it('the /reindex result says so too', async () => {
    writeFileSync(
      path.join(seeds, 'more.txt'),
      'More everyday questions\n\nWhat is the best way to learn to swim as an adult?\n',
    );
    const { sent } = await run.exchange(() => run.fake.sendCommand(ADMIN, 'reindex'));
    const status = sent[0]!;
    await run.fake.waitFor(() => status.plain.startsWith('Re-index done'), 60_000);
    expect(status.plain).toMatch(WARNING);
    expect(status.plain).toMatch(SHARES);
  }, 90_000);
});
