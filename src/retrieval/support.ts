import { dot } from '../index/dense.js';
import type { LexicalSearch } from '../index/indexData.js';
import type { QuestionParts } from '../text/asked.js';
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
   * nothing), and holds the kind of thing asked for: a number for "how many", a time for "when".
   */
  async covers(parts: QuestionParts, text: string, vector: Float32Array): Promise<boolean> {
    return (
      holdsWanted(parts, text) &&
      (await this.supports(parts.subject, Number.MIN_VALUE, text, vector)) &&
      (await this.supports(parts.asked, ASKED_SUPPORT, text, vector))
    );
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

/**
 * Whether the passage holds the kind of thing the question wants, beyond what the question itself
 * says: a number it does not name (for "how many"), a year or a month (for "when").
 */
function holdsWanted(parts: QuestionParts, text: string): boolean {
  if (!parts.wants) return true;
  const asked = new Set(parts.asked.concat(parts.subject));
  const fresh = numbersIn(text).filter((n) => !asked.has(n));
  if (parts.wants === 'number') return fresh.length > 0;
  return fresh.some((n) => /^(1[5-9]|20)\d\d$/.test(n)) || MONTHS.test(text);
}
