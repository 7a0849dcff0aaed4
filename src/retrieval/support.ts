import { dot } from '../index/dense.js';
import type { LexicalSearch } from '../index/indexData.js';
import { recentPassageTerms } from '../index/lexical.js';
import type { QuestionParts } from '../text/asked.js';
import { isEnglishNoun, synonymTerms } from '../text/synonyms.js';
import { terms } from '../text/terms.js';

/**
 * Whether a passage supports each part of a question (its subject, and what it asks for): by
 * words, word forms or close spellings ("established" / "establish", "organisations" /
 * "organizations"), or else by meaning — the part's embedding close to the passage's as only
 * UNRELATED_SHARE of unrelated passage–phrase pairs are, a gate measured at index time for the
 * model and the collection (`calibrateSupport` in calibration.ts), never a guessed cosine.
 */

/**
 * Share of what is asked (weighted by rarity) that must be present as words or word forms: more
 * than half, so a common word shared by chance ("like") does not carry a question whose rarer
 * words are missing. A name is recognised by any of its words ("IDP-s" for "Azerbaijani IDPs").
 */
const ASKED_SUPPORT = 0.5;

export class PartSupport {
  private readonly embedded = new Map<string, Promise<Float32Array>>();

  constructor(
    private readonly lexical: LexicalSearch,
    private readonly embedQuery: (text: string) => Promise<Float32Array>,
    /** Unset (an index calibrated before this existed): words and forms only. */
    private readonly gate: number | undefined,
  ) {}

  /** True when the passage supports the question's subject (its names), by words or by meaning. */
  async coversSubject(parts: QuestionParts, text: string, vector: Float32Array): Promise<boolean> {
    return this.supports(parts.subject, Number.MIN_VALUE, text, vector);
  }

  /** True when the question names a subject and the passage holds most of its names as words. */
  namesSubject(parts: QuestionParts, text: string): boolean {
    return parts.subject.length > 0 && this.lexical.coverage(parts.subject.join(' '), text) >= ASKED_SUPPORT;
  }

  /**
   * True when the passage supports both the subject and what is asked (an empty part needs
   * nothing), and holds the kind of thing asked for: a number for "how many" (of what it counts),
   * a time for "when".
   */
  async covers(parts: QuestionParts, text: string, vector: Float32Array): Promise<boolean> {
    return (
      holdsWanted(parts, text) &&
      (await this.supports(parts.subject, Number.MIN_VALUE, text, vector)) &&
      (await this.holdsCounted(parts, text, vector)) &&
      (await this.supports(parts.asked, ASKED_SUPPORT, text, vector))
    );
  }

  /**
   * For "how many soldiers", soldiers: a number of other things ("67 of them [citizens] were
   * killed") does not answer it. Any counted word counts, by the ways a part is supported or as an
   * English synonym ("seven surrounding regions" for "how many districts"): they only narrow the
   * number rule, never make a reply sure on their own.
   */
  private async holdsCounted(parts: QuestionParts, text: string, vector: Float32Array): Promise<boolean> {
    if (!parts.counted || (await this.supports(parts.counted, Number.MIN_VALUE, text, vector))) return true;
    const present = recentPassageTerms(text);
    return parts.counted.some((word) => synonymTerms(word).some((synonym) => present.has(synonym)));
  }

  private async supports(part: string[], share: number, text: string, vector: Float32Array): Promise<boolean> {
    if (part.length === 0) return true;
    const phrase = part.join(' ');
    if (this.lexical.coverage(phrase, text) >= share) return true;
    if (this.gate === undefined) return false;
    if (!this.embedded.has(phrase)) this.embedded.set(phrase, this.embedQuery(phrase));
    return dot(await this.embedded.get(phrase)!, vector) >= this.gate;
  }
}

const MONTHS =
  /(?<!\p{L})(january|february|march|april|may|june|july|august|september|october|november|december|январ|феврал|март|апрел|ма[йя]|июн|июл|август|сентябр|октябр|ноябр|декабр|yanvar|fevral|mart|aprel|iyun|iyul|avqust|sentyabr|oktyabr|noyabr|dekabr|ocak|şubat|nisan|mayıs|haziran|temmuz|ağustos|eylül|ekim|kasım|aralık)/iu;
/** The numbers of a text as `terms` writes them ("5,000" → "5000"), as the question's parts hold them. */
const numbersIn = (text: string) => terms(text).filter((t) => /^\p{N}/u.test(t));

/** The digits of a year, 1500–2099: what "when" accepts, and what "how many" does not count. */
const YEAR_DIGITS = '(?:1[5-9]|20)\\d\\d';
/** A year as texts write one (four digits, no thousands separator): "1988", "2020-2023". */
const YEAR = new RegExp(`(?<![\\p{N}.,])${YEAR_DIGITS}(?![\\p{N}]|[.,]\\p{N})`, 'gu');
const IS_YEAR = new RegExp(`^${YEAR_DIGITS}$`);
/** A day of a month: "27 September", "12-16 July", "September 27", "27 сентября". */
const DAY = new RegExp(
  `(?<!\\p{N})\\p{N}{1,2}(?:-\\p{N}{1,2})?(?=\\s+${MONTHS.source})|(?<=${MONTHS.source}\\p{L}*\\s+)\\p{N}{1,2}(?!\\p{N})`,
  'giu',
);
/** A number joined to a word by a hyphen: "23-hour", "44-day", "5-member" (not "1948-1953"). */
const JOINED_NUMBER = /(?<![\p{L}\p{N}])\p{N}+-(\p{L}+)/gu;

/**
 * The numbers of a passage that count something, for "how many": not its years and days of the
 * month ("On 27 September 2020" counts nothing), nor those joined to an English noun the question
 * does not ask about ("the 23-hour operation" counts hours; "5-member" answers "how many members").
 * Suffixes joined to numbers in other languages ("2020-ci", "1990-х") are no English nouns.
 */
function countsIn(askedTerms: Set<string>, text: string): string[] {
  const keepAskedMeasure = (joined: string, word: string) => {
    const lower = word.toLowerCase();
    return word.length >= 3 && isEnglishNoun(lower) && !askedTerms.has(terms(lower)[0]!) ? word : joined;
  };
  return numbersIn(text.replace(JOINED_NUMBER, keepAskedMeasure).replace(DAY, ' ').replace(YEAR, ' '));
}

/**
 * Whether the passage holds the kind of thing the question wants, beyond what the question itself
 * says: a number it does not name (for "how many"), a year or a month (for "when").
 */
function holdsWanted(parts: QuestionParts, text: string): boolean {
  if (!parts.wants) return true;
  // As search terms, the form `countsIn` compares the joined nouns in ("hours" → "hour").
  const asked = new Set(terms(parts.asked.concat(parts.subject).join(' ')));
  if (parts.wants === 'number') return countsIn(asked, text).some((n) => !asked.has(n));
  const fresh = numbersIn(text).filter((n) => !asked.has(n));
  return fresh.some((n) => IS_YEAR.test(n)) || MONTHS.test(text);
}
