import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { chunkDocument } from '../src/chunks/chunk.js';
import { sameText } from '../src/text/sentences.js';
import { loadDocuments } from './support/loadDocuments.js';
import { buildSettings } from '../src/index/settings.js';
import { buildIndex } from '../src/index/build.js';
import { loadIndex } from '../src/index/loader.js';
import { type EvalItem, goldRank, score, thresholdsBestOn } from '../src/retrieval/evaluate.js';
import { LexicalIndex } from '../src/index/lexical.js';
import { Retriever, toJson, type Answer, type Hit } from '../src/retrieval/search.js';
import { focusQuestion } from '../src/text/focus.js';
import { fold, terms } from '../src/text/terms.js';
import { DEV_SET, SEEDS, tempDirs, testConfig, testEmbedder, testModelDir } from './support/testModel.js';

const tempDir = tempDirs('cite-retrieval-');
const seedDocs = (await loadDocuments(SEEDS)).documents;
const sources = new Map(seedDocs.map((d) => [d.file, d.source]));

let retriever: Retriever;

beforeAll(async () => {
  const indexDir = path.join(tempDir(), 'index');
  // Thresholds, efSearch and top K exactly as shipped (defaults), only the model is the test one.
  const config = testConfig({ EMBED_MODEL: await testModelDir(), INDEX_DIR: indexDir });
  expect([config.DENSE_THRESHOLD, config.LEXICAL_THRESHOLD, config.TOP_K]).toEqual([undefined, 0.25, 3]); // dense: calibrated
  const embedder = await testEmbedder();
  await buildIndex(buildSettings(config), embedder);
  retriever = new Retriever(await loadIndex(indexDir), embedder, {
    denseThreshold: config.DENSE_THRESHOLD,
    lexicalThreshold: config.LEXICAL_THRESHOLD,
  });
}, 60_000);

function expectQuotable(hit: Hit) {
  expect(sameText(sources.get(hit.doc)!.slice(hit.start, hit.end), hit.text)).toBe(true);
  expect(hit.text).toContain(hit.sentence);
}

describe('hybrid search on the seeds', () => {
  it('answers the 1948-1953 expulsion question from doc 000 with the exact sentence', async () => {
    const answer = await retriever.search('How many Azerbaijanis were expelled in 1948-1953?', 3);
    expect(answer.answered).toBe(true);
    expect(answer.hits).toHaveLength(3);
    const top = answer.hits[0]!;
    expect(top.doc.startsWith('000')).toBe(true);
    expect(top.paragraph).toBe(4);
    expect(top.text).toContain('150 thousand Azerbaijanis were expelled');
    expect(top.sentence).toBe(
      'In 1948-1953, 150 thousand Azerbaijanis were expelled from their historical lands in Armenia, ' +
        'and in 1988 another 250 thousand Azerbaijanis were expelled.',
    );
    expect(top.score).toBe(1); // first in both rankings
    expect(top.relevant).toBe(true);
    expect(top.coverage).toBe(1); // every informative word of the question is in the chunk
    for (const h of answer.hits) expectQuotable(h);
    // Scores are fused ranks: descending and within (0, 1].
    const scores = answer.hits.map((h) => h.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(scores.every((s) => s > 0 && s <= 1)).toBe(true);
  });

  it.each(['Were 5000 houses destroyed?', 'How many houses were destroyed — 5,000?'])(
    'matches numbers written with or without a thousands separator: %s',
    async (question) => {
      const answer = await retriever.search(question, 3);
      expect(answer.answered).toBe(true);
      const top = answer.hits[0]!;
      expect(top.doc.startsWith('000')).toBe(true);
      expect(top.sentence).toBe(
        'As a result, about 100 civilians were killed, more than 400 civilians were injured, and more than 5,000 houses were destroyed.',
      );
      expectQuotable(top);
    },
  );

  it.each(['5000', '5,000'])(
    'finds "5,000" from the bare number %s (lexical only, no help from "houses")',
    async (n) => {
      const answer = await retriever.search(n, 1, 'lexical');
      expect(answer.hits).toHaveLength(1);
      expect(answer.hits[0]!.sentence).toContain('more than 5,000 houses were destroyed');
      expect(answer.hits[0]!.coverage).toBe(1);
    },
  );

  it('finds the 002 "50 political parties" paragraph', async () => {
    const answer = await retriever.search('How many political parties issued a joint statement?', 3);
    expect(answer.hits[0]!.doc.startsWith('002')).toBe(true);
    expect(answer.hits[0]!.sentence).toMatch(
      /^In this regard, 50 political parties in Azerbaijan issued a joint statement/,
    );
  });

  it('declines an off-topic question with the default thresholds (but still lists the nearest passages)', async () => {
    const answer = await retriever.search('What is the boiling point of water at sea level?', 3);
    expect(answer.answered).toBe(false);
    expect(answer.hits).toHaveLength(3);
    for (const h of answer.hits) {
      expect(h.relevant).toBe(false);
      expect(h.similarity).toBeLessThan(0.85);
      expect(h.coverage).toBeLessThan(0.25);
    }
  });

  it('returns at most topK hits, and distinct chunks', async () => {
    for (const k of [1, 2, 5]) {
      const answer = await retriever.search('Karabakh conflict OSCE Minsk Group', k);
      expect(answer.hits).toHaveLength(k);
      expect(new Set(answer.hits.map((h) => `${h.doc}:${h.start}`)).size).toBe(k);
    }
  });

  it('dense-only and lexical-only modes each still find the railway workers’ union', async () => {
    for (const mode of ['dense', 'lexical'] as const) {
      const answer = await retriever.search('Which trade union represents railway workers?', 3, mode);
      expect(answer.hits[0]!.sentence, mode).toBe(
        'Azerbaijan Independent Trade Union Republican Committee Railway-Workers',
      );
      expect(answer.hits[0]!.score).toBe(1);
    }
  });

  it('toJson keeps exactly the public fields', async () => {
    const json = toJson(await retriever.search('How many Azerbaijanis were expelled in 1948-1953?', 2));
    expect(Object.keys(json)).toEqual(['question', 'answered', 'hedged', 'hits']);
    expect(Object.keys(json.hits[0]!)).toEqual([
      'doc',
      'title',
      'paragraph',
      'score',
      'text',
      'start',
      'end',
      'sentence',
      'hedged',
    ]);
  });
});

describe('citations point at the quoted text', () => {
  /** The blank-line-separated block of the file that a reader finds at ¶n (counted after the title's block). */
  const block = (doc: string, n: number) => {
    const source = sources.get(doc)!;
    const blocks = source.split(/\n[ \t\r]*\n/).filter((b) => b.trim() !== '');
    const title = blocks.findIndex(
      (b) => b.trim() !== '' && !/^\s*$/.test(b) && b.includes(seedDocs.find((d) => d.file === doc)!.title),
    );
    return blocks[title + n]!.replace(/\s+/g, ' ');
  };

  it.each([
    ['Which trade union represents customs workers?', 'Trade Union Of Customs Workers', 29],
    [
      'Who is the chairman of the Azerbaijan Trade Unions Confederation?',
      'Chairman of the Azerbaijan Trade Unions Confederation',
      37,
    ],
  ])('%s → the marked line and its own ¶', async (question, line, paragraph) => {
    const hit = (await retriever.search(question, 3)).hits.find((h) => h.sentence === line)!;
    expect(
      hit,
      `marked: ${(await retriever.search(question, 3)).hits.map((h) => h.sentence).join(' | ')}`,
    ).toBeDefined();
    expect(hit.paragraph).toBe(paragraph);
    expect(block(hit.doc, hit.paragraph)).toContain(line);
  });

  it('marks the sentence that answers, even in another word form ("remain unimplemented" → "remained on paper for 27 years")', async () => {
    const answer = await retriever.search('How long did the UN resolutions on Karabakh remain unimplemented?', 3);
    expect(answer.hits[0]!.sentence).toContain('remained on paper for 27 years');
    expect(block(answer.hits[0]!.doc, answer.hits[0]!.paragraph)).toContain('remained on paper for 27 years');
  });

  it.each([
    'UN resolutions',
    'What did the OSCE Minsk Group do?',
    'How long did the UN resolutions on Karabakh remain unimplemented?',
  ])('quotes no passage twice: %s', async (question) => {
    const hits = (await retriever.search(question, 10)).hits;
    for (const [i, a] of hits.entries()) {
      for (const b of hits.slice(i + 1))
        expect(
          a.doc === b.doc && a.start < b.end && b.start < a.end,
          `${a.doc} ${a.start}-${a.end} / ${b.start}-${b.end}`,
        ).toBe(false);
    }
    const marked = hits.map((h) => `${h.doc}|${h.sentence}`);
    expect(new Set(marked).size).toBe(marked.length);
  });
});

describe('terms and lexical coverage', () => {
  it('normalises numbers, ranges, case and accents, stems words and drops stopwords', () => {
    expect(terms('In 1948-1953, 150 thousand; 5,000 and 5000 and 1.500.000 houses')).toEqual([
      '1948',
      '1953',
      '150',
      'thousand',
      '5000',
      '5000',
      '1500000',
      'hous',
    ]);
    // Words with Turkish letters are stemmed as Turkish (Azerbaijani too), then folded.
    expect(terms('İstanbul Azərbaycan Şuşa')).toEqual(['istanbul', 'azərbayca', 'sus']);
    expect(fold('IĞDIR')).toBe('igdir');
    expect(terms('What is the number of the')).toEqual(['number']);
  });

  it('gives word forms one term in each language, British and American spellings too', () => {
    const same = (a: string, b: string) => expect(terms(a), `${a} / ${b}`).toEqual(terms(b));
    same('expelled', 'expel');
    same('organisations', 'organizations');
    same('изгнаны', 'изгнан');
    same('kuruluşlara', 'kuruluşlar'); // Turkish (a word with Turkish letters; others are read as English)
    same('azərbaycanlılar', 'azərbaycanlı');
    expect(terms('expelled')).not.toEqual(terms('expert'));
  });

  const lexicalOf = (texts: string[]) =>
    LexicalIndex.build(
      texts.map((text, label) => ({ label, text, title: 't' })),
      texts.length,
    );

  it('weighs rare words more in coverage', () => {
    const lex = lexicalOf([
      'Common word appears here with Khojaly.',
      'Common word appears here too.',
      'Common word again.',
    ]);
    // "common" is in every chunk (low weight), "khojaly" in one (high weight), "zebra" in none (as high
    // as the rarest word: a question about it is not covered by a text about the others).
    const withRare = lex.coverage('common khojaly', 'Khojaly');
    const withCommon = lex.coverage('common khojaly', 'common');
    expect(withRare).toBeGreaterThan(0.6);
    expect(withCommon).toBeLessThan(0.4);
    expect(withRare + withCommon).toBeCloseTo(1, 10);
    expect(lex.coverage('zebra khojaly', 'Khojaly')).toBeCloseTo(0.5, 10);
    expect(lex.coverage('zebra common', 'common')).toBeLessThan(0.4);
    expect(lex.coverage('Khojaly, common!', 'KHOJALY common')).toBe(1);
    expect(lex.coverage('the of and', 'anything')).toBe(0);
    expect(lex.query('khojaly', 3).labels).toEqual([0]);
  });

  it('counts word forms in coverage: "remain" is in "remained", "resolution" in "resolutions"', () => {
    const lex = lexicalOf(['The resolutions remained on paper.', 'Something else entirely.']);
    expect(lex.coverage('remain resolution', 'The resolutions remained on paper.')).toBe(1);
    expect(lex.coverage('rem', 'remained')).toBe(0); // short words must match exactly
  });

  it('finds the question words no passage uses in any form or close spelling', () => {
    const lex = lexicalOf(['The resolutions remained on paper.', 'The organizations were informed of the expulsion.']);
    expect(lex.unknownTerms('Did the organisations remain informed about the GDP and inflation?')).toEqual([
      'gdp',
      'inflat',
    ]);
    expect(lex.unknownTerms('resolution remains expulsions')).toEqual([]); // shorter and longer forms are known
  });

  it('matches word forms by their stem and close spellings of long words', () => {
    const lex = lexicalOf([
      'Thousands were expelled from their lands.',
      'The organizations were informed.',
      'An expel order.',
      'The Azerbaijan delegation.',
    ]);
    expect(lex.query('expel', 3).labels).toEqual([2, 0]); // one stem; the shorter passage first
    expect(lex.query('organisations', 3).labels).toEqual([1]); // the British spelling
    expect(lex.query('Azerbaijian', 3).labels).toEqual([3]); // one edit away
  });

  it('an update (remove + add) ranks exactly like a fresh build of the same chunks; serialize round-trips', () => {
    const texts = [
      'Armenia occupied Karabakh for thirty years.',
      'Refugees left their homes in 1988.',
      'The OSCE Minsk Group met.',
      'Trade unions of Azerbaijan appealed.',
    ];
    const updated = lexicalOf(texts.slice(0, 3)).update(
      [1],
      [
        { label: 3, text: texts[3]!, title: 't' },
        { label: 1, text: 'Refugees returned home in 2021.', title: 't' },
      ],
      4,
    );
    const fresh = LexicalIndex.build(
      [0, 1, 2, 3].map((label) => ({
        label,
        text: label === 1 ? 'Refugees returned home in 2021.' : texts[label]!,
        title: 't',
      })),
      4,
    );
    for (const q of ['refugees 1988', 'refugees 2021 home', 'trade unions appeal', 'karabakh occupied years']) {
      expect(updated.query(q, 4)).toEqual(fresh.query(q, 4));
      expect(LexicalIndex.deserialize(updated.serialize()).query(q, 4)).toEqual(fresh.query(q, 4));
    }
    expect(updated.query('1988', 4).labels).toEqual([]); // the removed text is gone
    expect(() => LexicalIndex.deserialize(Buffer.from('not an index'))).toThrow();
  });

  it('on the seeds, updates in steps (deletions only, re-titled, appended) answer every question like a fresh build', () => {
    const chunks = seedDocs
      .flatMap((d) => chunkDocument(d))
      .map((c, label) => ({ label, text: c.text, title: c.title }));
    expect(chunks.length).toBeGreaterThan(60);
    const questions = readFileSync(DEV_SET, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { q: string }).q);
    questions.push('expel refugees Karabakh', 'Azerbaycan railway 1948-1953', 'zebra');
    const same = (a: LexicalIndex, b: LexicalIndex, step: string) => {
      for (const q of questions) {
        expect(a.query(q, 20), `${step}: ${q}`).toEqual(b.query(q, 20));
        expect(a.unknownTerms(q), `${step}: ${q}`).toEqual(b.unknownTerms(q));
        for (const t of terms(q)) expect(a.idf(t), `${step}: ${t}`).toBe(b.idf(t));
        for (const label of [0, 20, 40])
          expect(a.coverage(q, chunks[label]!.text)).toBe(b.coverage(q, chunks[label]!.text));
      }
      const round = LexicalIndex.deserialize(a.serialize());
      for (const q of questions) expect(round.query(q, 20), `${step} (deserialized): ${q}`).toEqual(b.query(q, 20));
    };
    const labels = chunks.length;
    const first = chunks.slice(0, 50);
    let updated = LexicalIndex.build(first, 50);
    same(updated, LexicalIndex.build(first, 50), 'build');

    const removed = new Set([3, 4, 5, 17, 30]); // deletions only: the labels stay, empty
    updated = updated.update(removed, [], 50);
    let live = first.filter((c) => !removed.has(c.label));
    same(updated, LexicalIndex.build(live, 50), 'deleted');

    const retitled = live.slice(0, 6).map((c) => ({ ...c, title: 'A renamed document' })); // in both lists: replaced
    updated = updated.update([], retitled, 50);
    live = live.map((c) => retitled.find((r) => r.label === c.label) ?? c);
    same(updated, LexicalIndex.build(live, 50), 'retitled');

    updated = updated.update([0, 1], chunks.slice(50), labels); // appended labels grow the slots
    live = [...live.filter((c) => c.label > 1), ...chunks.slice(50)];
    expect(updated.labels).toBe(labels);
    same(updated, LexicalIndex.build(live, labels), 'appended');
  });
});

describe('eval scoring', () => {
  const hit = (doc: string, text: string, similarity = 0, coverage = 0): Hit => ({
    doc,
    title: '',
    paragraph: 1,
    parts: [1],
    score: 0,
    text,
    start: 0,
    end: 0,
    sentence: text,
    similarity,
    coverage,
    relevant: false,
    close: false,
    about: false,
  });
  const answer = (answered: boolean, hits: Hit[]): Answer => ({ question: '', answered, hedged: false, hits });
  const item = (id: string, lang: string, gold: EvalItem['gold']): EvalItem => ({ id, lang, q: id, gold });

  it('goldRank needs the gold document and the gold text (whitespace and case folded)', () => {
    const it1 = item('a', 'en', [{ doc: '000', text: 'Foo  bar' }]);
    expect(goldRank(it1, answer(true, [hit('000_x.txt', 'xx foo\nBAR yy')]))).toBe(1);
    expect(goldRank(it1, answer(true, [hit('001_x.txt', 'foo bar'), hit('000_x.txt', 'foo bar')]))).toBe(2);
    expect(goldRank(it1, answer(true, [hit('001_x.txt', 'foo bar'), hit('000_x.txt', 'foo baz')]))).toBe(0);
  });

  it('score computes recall@1, recall@5, MRR per language group and the decline rates', () => {
    const items = [
      item('a', 'en', [{ doc: '000', text: 'alpha' }]),
      item('b', 'ru', [{ doc: '001', text: 'beta' }]),
      item('c', 'en', []),
      item('d', 'en', [{ doc: '002', text: 'delta' }]),
      item('e', 'az', [{ doc: '003', text: 'eps' }]),
      item('f', 'en', []),
    ];
    const miss = hit('009_x.txt', 'nothing');
    const answers = [
      answer(true, [hit('000_a.txt', 'Alpha!')]), // rank 1
      answer(true, [miss, hit('001_b.txt', 'beta')]), // rank 2
      answer(false, [miss]), // unanswerable, declined
      answer(false, [miss]), // answerable, wrongly declined, rank 0
      answer(true, [miss, miss, miss, miss, miss, hit('003_e.txt', 'eps')]), // rank 6: not in recall@5
      answer(true, [miss]), // unanswerable, answered anyway
    ];
    const report = score(items, answers, 'hybrid');
    expect(report.mode).toBe('hybrid');
    expect(report.unanswerable).toBe(2);
    expect(report.declined).toBe(0.5);
    expect(report.wronglyDeclined).toBe(0.25);
    expect(Object.keys(report.groups).sort()).toEqual(['all', 'en', 'ru/az/tr']);
    const all = report.groups.all!;
    expect(all.questions).toBe(4);
    expect(all.recall1).toBeCloseTo(1 / 4);
    expect(all.recall5).toBeCloseTo(2 / 4);
    expect(all.mrr).toBeCloseTo((1 + 1 / 2 + 0 + 1 / 6) / 4);
    expect(report.groups.en).toEqual({ questions: 2, recall1: 0.5, recall5: 0.5, mrr: 0.5 });
    expect(report.groups['ru/az/tr']!.questions).toBe(2);
    expect(report.groups['ru/az/tr']!.recall1).toBe(0);
    expect(report.groups['ru/az/tr']!.recall5).toBe(0.5);
    expect(report.groups['ru/az/tr']!.mrr).toBeCloseTo((1 / 2 + 1 / 6) / 2);
  });

  it('thresholdsBestOn finds thresholds that separate answerable from unanswerable, looking only at the top K', () => {
    const items = [
      item('a', 'en', [{ doc: '0', text: 'x' }]),
      item('b', 'en', [{ doc: '0', text: 'x' }]),
      item('c', 'en', []),
      item('d', 'en', []),
    ];
    const answers = [
      answer(true, [hit('0', 'x', 0.9, 0)]),
      answer(true, [hit('0', 'x', 0.8, 0)]),
      answer(true, [hit('0', 'x', 0.5, 0), hit('0', 'x', 0.99, 1)]), // the strong second hit is beyond topK = 1
      answer(true, [hit('0', 'x', 0.7, 0)]),
    ];
    const c = thresholdsBestOn(items, answers, 1);
    expect(c.accuracy).toBe(1);
    expect(c.dense).toBeCloseTo(0.75, 10); // midpoint between 0.7 (declined) and 0.8 (answered)
    expect(c.lexical).toBeGreaterThan(0); // coverage 0 must not answer
    // With topK = 2, item c looks answerable (0.99): no threshold is perfect any more.
    expect(thresholdsBestOn(items, answers, 2).accuracy).toBe(0.75);
  });

  it('thresholdsBestOn prefers declining when answerable and unanswerable look the same', () => {
    const items = [item('a', 'en', [{ doc: '0', text: 'x' }]), item('b', 'en', [])];
    const answers = [answer(true, [hit('0', 'x', 0.6, 0.2)]), answer(true, [hit('0', 'x', 0.6, 0.2)])];
    const c = thresholdsBestOn(items, answers, 3);
    expect(c.accuracy).toBe(0.5);
    expect(c.dense).toBeGreaterThan(0.6);
    expect(c.lexical).toBeGreaterThan(0.2);
  });
});

describe('questions about "the documents"', () => {
  it('drops the words about the documents and keeps the subject', () => {
    // /help's own English example form ("… about the X?") gives X itself; other forms keep the rest of the question.
    expect(focusQuestion('What do the documents say about the Council of Europe?')).toBe('Council of Europe');
    expect(focusQuestion('What do the documents say about Council of Europe resolutions?')).toBe(
      'Council of Europe resolutions?',
    );
    expect(focusQuestion('According to the documents, how many houses were destroyed?')).toBe(
      'how many houses were destroyed?',
    );
    expect(focusQuestion('What does the text tell us about mines?')).toBe('mines?');
    expect(focusQuestion('What do the documents say about')).toBe('What do the documents say about'); // nothing left: unchanged
    expect(focusQuestion('Which documents were signed in 1992?')).toBe('Which documents were signed in 1992?');
  });

  it('answers from passages about the subject, not from a passage that mentions documents (regression)', async () => {
    // 004 ¶11 speaks of "the documents of these bodies": it used to win every such question.
    const answer = await retriever.search('What do the documents say about the Council of Europe?', 3);
    expect(answer.question).toBe('What do the documents say about the Council of Europe?');
    expect(answer.answered).toBe(true);
    expect(answer.hits[0]!.text).toContain('Council of Europe');
    expect(answer.hits[0]!.paragraph).not.toBe(11);
  });
});
