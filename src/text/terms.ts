import snowball from 'snowball-stemmers';

/**
 * Bump when `terms` changes what it returns: a lexical index built with other terms cannot be
 * searched with these (the build key includes it, so such an index is rebuilt).
 */
export const TERMS_VERSION = 'snowball-1';

/** Words too common to say anything about relevance (English: the documents' language). */
const STOPWORDS = new Set(
  `a an and are as at be been by did do does for from had has have he how in into is it its of on or that the their
  them they this to was were what when where which who whom why will with would about after all also any can
  could many much more most not our so such than then there these those through under until us we you your i`.split(
    /\s+/,
  ),
);

/** Folds case and accents ("İstanbul" → "istanbul", "Azərbaycan" → "azərbaycan" minus marks). */
export function fold(word: string): string {
  return word.toLowerCase().normalize('NFKD').replace(/\p{M}/gu, '').replace(/ı/g, 'i');
}

/** One Snowball stemmer per script: Cyrillic words are Russian, words with Turkish letters Turkish. */
const STEMMERS = {
  english: snowball.newStemmer('english'),
  russian: snowball.newStemmer('russian'),
  // Azerbaijani has no Snowball stemmer; its suffixes are close kin of Turkish ones (-lar/-lər,
  // -da/-də, -nın/-nin), so Azerbaijani words are stemmed as Turkish (measured in docs/answers.md).
  turkish: snowball.newStemmer('turkish'),
};
const stemmerOf = (word: string) =>
  /\p{Script=Cyrillic}/u.test(word)
    ? STEMMERS.russian
    : /[əğışçöüâîû]/u.test(word)
      ? STEMMERS.turkish
      : STEMMERS.english;

/** British -ise/-isation spellings as American ones, so both stem alike ("organisations" / "organizations"). */
const britishToAmerican = (word: string) => word.replace(/(?<=\p{L}{3})is(e|es|ed|ing|ation|ations)$/u, 'iz$1');

/** The term of one word: lower case, its stem in its language, then folded ("Expelled" → "expel"). */
function termOf(word: string): string {
  const lower = word.toLowerCase().replace(/i\u0307/g, 'i');
  return fold(stemmerOf(lower).stem(britishToAmerican(lower)));
}

/**
 * Search terms of a text: word stems and numbers. "5,000" and "5000" are the same number;
 * "1948-1953" gives 1948 and 1953; "expelled" and "expel" are one term.
 */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const [token] of text.matchAll(/\p{N}+(?:[.,]\p{N}{3})*|[\p{L}\p{M}]+/gu)) {
    let term = tokenTerms.get(token);
    if (term === undefined) term = rememberedTermOf(token);
    if (term !== null) out.push(term);
  }
  return out;
}

/**
 * The term of each token seen (null for a stopword or a single letter), so a passage's words are
 * folded and stemmed once, not once per question: that costs more than the lookup.
 */
const tokenTerms = new Map<string, string | null>();
const TOKEN_TERMS_MAX = 200_000;

function rememberedTermOf(token: string): string | null {
  const term = tokenTerm(token);
  if (tokenTerms.size >= TOKEN_TERMS_MAX) tokenTerms.clear();
  tokenTerms.set(token, term);
  return term;
}

function tokenTerm(token: string): string | null {
  if (/^\p{N}/u.test(token)) return token.replace(/[.,]/g, '');
  const folded = fold(token);
  // Single letters ("Azerbaijan's" → "s", initials) say nothing about a subject.
  if (STOPWORDS.has(folded) || folded.length < 2) return null;
  return termOf(token);
}
