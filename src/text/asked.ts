import { fold, terms } from './terms.js';

/**
 * A question names its subject (what the documents may know: people, organisations, places) and
 * asks for something about it (a date, a number of employees, a phone number). A passage that
 * names the subject but says nothing of what is asked is not an answer, so the two parts are
 * checked separately (see `support.ts`).
 *
 * Names are told by their capital letter, which all four languages of the bot share; the words
 * that only say *how* something is asked (interrogatives, auxiliaries, case suffixes) are dropped.
 */

/**
 * Generic question and function words per language: they shape a question, they are not what it
 * asks for. (English function words are already dropped by `terms`.)
 */
const QUESTION_WORDS = new Set(
  [
    // English
    'how what when where which who whom whose why since is are was were do does did have has had tell me please kind sort type',
    // Russian
    'что кто где когда какой какая какое какие каков какова каково каковы сколько почему зачем как ли был была было были есть ' +
      'является являются в во на у о об с со из к по за для и или не это этот эта эти от до при же его ее её их чем чего кого кому ' +
      'каким какого какую ещё еще был бы',
    // Azerbaijani
    'nə nədir kim kimdir kimin harada hara haradan haraya nə vaxt neçə hansı niyə necə qədər mi mı mu mü və ilə bu o üçün da də ' +
      'dır dir dur dür idi olub olan var',
    // Turkish
    'ne neden nedir kim kimdir kimin nerede nereden nereye zaman kaç hangi niçin nasıl mi mı mu mü ve ile bu şu o için da de ' +
      'kadar neydi midir mıdır var',
  ]
    .join(' ')
    .split(/\s+/)
    .map(fold),
);

export interface QuestionParts {
  /** Folded words of the names in the question. */
  subject: string[];
  /** Folded words of what it asks for about them (everything else that carries meaning). */
  asked: string[];
  /** A number or a time, when the question word asks for one ("how many", "when", "сколько"). */
  wants?: 'number' | 'time';
  /**
   * What a "how many" question counts, when it says so in words of its own: the asked-for words
   * right after its question word ("soldiers" in "How many Azerbaijani soldiers were killed?").
   */
  counted?: string[];
}

/** Question words asking for a quantity or a time, in the bot's four languages (not inside a word). */
const WANTS_NUMBER =
  /(?<!\p{L})(how (many|much)|what (number|percentage|share)|сколько|neçə|nə qədər|kaç|ne kadar)(?!\p{L})/iu;
const WANTS_TIME =
  /(?<!\p{L})(when|what year|which year|когда|в каком году|nə vaxt|nə zaman|hansı ildə|ne zaman|hangi yıl)(?!\p{L})/giu;

/** Words read after a quantity's question word for what it counts ("mine victims", "güc mərkəzini"). */
const COUNTED_WORDS = 2;
/**
 * Counted words that name no particular kind of thing: "how many people" is answered by citizens,
 * civilians or officers counted, so it asks for nothing beyond a number (nor does the verb after it).
 */
const ANY_COUNT = new Set(
  'people persons person individuals times человек людей люди раз nəfər adam insan kişi dəfə kez kere'
    .split(' ')
    .map(fold),
);

/**
 * The asked-for words that name what a "how many" question counts: those among the few words
 * right after its question word, up to the first question or function word ("were", "of").
 * The four languages put the counted noun there ("how many soldiers", "сколько мин",
 * "neçə güc mərkəzini", "kaç asker"); a name there ("Azerbaijani") is the subject's, checked apart.
 */
function countedWords(question: string, asked: Set<string>): string[] {
  const quantity = WANTS_NUMBER.exec(question);
  if (!quantity) return [];
  const after = question.slice(quantity.index + quantity[0].length).match(/[\p{L}\p{M}]+|\p{N}+/gu) ?? [];
  const counted: string[] = [];
  for (const word of after.slice(0, COUNTED_WORDS)) {
    const [searched] = terms(word);
    const folded = fold(word);
    if (searched === undefined || QUESTION_WORDS.has(folded) || ANY_COUNT.has(folded)) break;
    if (asked.has(folded)) counted.push(folded);
  }
  return counted;
}

/** What kind of thing the question asks for, when its question word says so. */
function wantedKind(question: string): QuestionParts['wants'] {
  if (WANTS_NUMBER.test(question)) return 'number';
  const times = [...question.matchAll(WANTS_TIME)];
  if (times.some((time) => !isSubordinate(question, time.index))) return 'time';
  return undefined;
}

/** Question words that ask for something other than a time (see `isSubordinate`). */
const ASKS_OTHER_EN = 'what|which|who|whom|whose|where|why|how';
const ASKS_OTHER_RU =
  'что|чего|чем|кто|кого|кому|где|куда|откуда|как|какой|какая|какое|какие|какую|каким|каков|почему|зачем';
const ASKS_OTHER = new RegExp(`^(${ASKS_OTHER_EN}|${ASKS_OTHER_RU})$`, 'iu');
const ASKS_OTHER_AFTER_CLAUSE = new RegExp(`^(${ASKS_OTHER_EN})$`, 'i');
/** Joins two question words that both ask ("Where and when…?"). */
const JOINED_ASKING = /(?<!\p{L})(and|or|и|или)\s*$/iu;

/**
 * Whether the time word at `at` opens a clause inside a question that asks for something else, so
 * the question wants no date: "What was Azerbaijan's goal when it joined the Council of Europe?",
 * "Что заявил Азербайджан, когда…?" (the question starts with another question word, not joined to
 * this one by "and"); "When it joined the Council of Europe, what did Azerbaijan expect?" (English
 * only: its clause ends at a comma and a question word follows; in Russian "что", "как", "где"
 * after a comma are as often "that", "as", "where"). Azerbaijani and Turkish make a clause of time
 * with a suffix ("katıldığında"), not with their question word.
 */
function isSubordinate(question: string, at: number): boolean {
  const wordAt = (i: number) => /^\p{L}+/u.exec(question.slice(i).trimStart())?.[0]?.toLowerCase() ?? '';
  const word = wordAt(at);
  if (word !== 'when' && word !== 'когда') return false;
  if (ASKS_OTHER.test(wordAt(0))) return !JOINED_ASKING.test(question.slice(0, at));
  const comma = question.indexOf(',', at);
  return word === 'when' && comma >= 0 && ASKS_OTHER_AFTER_CLAUSE.test(wordAt(comma + 1));
}

/** A word's own capital letter marks a name ("Frank", "OSCE", "Bakı"), not a sentence start alone. */
const capitalised = (word: string) => /^\p{Lu}/u.test(word);

/**
 * Splits a question into its subject and what it asks for. A capitalised word is part of the
 * subject unless it is a question word; the first word, capitalised anyway, only when it is in
 * capitals ("OSCE") or starts a longer name ("Frank Schwabe", "Baku Steel Company"); a
 * lowercase ending joined to a name or number by an apostrophe or hyphen ("Company'nin",
 * "2010-cu", "Schwabe's") is a case suffix, not a word.
 */
export function questionParts(question: string): QuestionParts {
  const subject = new Set<string>();
  const asked = new Set<string>();
  let previousNamed = false;
  const tokens = [...question.matchAll(/\p{N}+(?:[.,]\p{N}{3})*|[\p{L}\p{M}]+/gu)];
  tokens.forEach((match, i) => {
    const token = match[0];
    const joined = /['’-]/.test(question[match.index - 1] ?? '');
    const suffix = joined && previousNamed && !capitalised(token) && !/^\p{N}/u.test(token);
    // Folded words, not stems: the parts are searched again with `terms` (which stems them);
    // numbers as `terms` writes them ("5,000" → "5000"), so they compare with a passage's.
    const [searched] = terms(token);
    const term = searched === undefined || /^\p{N}/u.test(token) ? searched : fold(token);
    const startsName = i > 0 || /^\p{Lu}{2,}$/u.test(token) || capitalised(tokens[1]?.[0] ?? '');
    const name = capitalised(token) && startsName && !QUESTION_WORDS.has(fold(token));
    previousNamed = name || /^\p{N}/u.test(token) || (suffix && previousNamed);
    if (suffix || term === undefined || QUESTION_WORDS.has(term)) return;
    (name ? subject : asked).add(term);
  });
  for (const t of subject) asked.delete(t);
  const wants = wantedKind(question);
  const counted = wants === 'number' ? countedWords(question, asked) : [];
  return {
    subject: [...subject],
    asked: [...asked],
    ...(wants ? { wants } : {}),
    ...(counted.length > 0 ? { counted } : {}),
  };
}
