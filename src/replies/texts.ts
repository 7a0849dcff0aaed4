/**
 * Every fixed text the bot and the console show, in the four languages users write in. Quotations
 * and titles are never translated: only the words around them. A missing key in a language is a
 * type error.
 */
import type { ReplyShares } from '../retrieval/health.js';
import { EXAMPLE_QUESTIONS } from '../text/examples.js';
import { skipReasonIn } from './skipReasons.js';

export type Lang = 'en' | 'ru' | 'az' | 'tr';
export const LANGS: readonly Lang[] = ['en', 'ru', 'az', 'tr'];

/** A share as people read it: "12 %". */
export const percent = (share: number) => `${Math.round(100 * share)} %`;

/** Noun forms for counts: [one, few, many] (Russian needs three; the others use one or two). */
type Forms = [string, string, string];

/** The commands in the bot's menu. */
export type MenuCommand = 'ask' | 'sources' | 'help' | 'start' | 'stats' | 'reindex' | 'remove' | 'allow' | 'revoke';

export interface Texts {
  /** Which language these are. */
  lang: Lang;
  /** "According to «title», ¶4 (file):" — `title` and `where` come already formatted. */
  according: (title: string, where: string, file: string) => string;
  /** "excerpt ¶26–31" in "¶29 (excerpt ¶26–31)". */
  excerpt: string;
  /** "p." in "p. 3 ¶2" (a page of a PDF). */
  page: string;
  fullPassageHeader: (title: string, where: string, file: string) => string;
  notCovered: string;
  /** Heads the quotes of an answer no passage is sure to give (the closest passages, quoted as they are). */
  hedged: string;
  /** Heads the quotes below a sure answer's that are only close to the question (the hedge line's twin). */
  alsoClose: string;
  theyAreAbout: string;
  andMore: (n: number) => string;
  fullPassage: string;
  moreResults: string;
  help: (documents: number, examples: string[]) => string;
  exampleQuestion: (subject: string) => string;
  trimmed: (max: number) => string;
  askUsage: string;
  rateLimited: string;
  /** The bot is behind: questions sent more than `seconds` ago are not answered. */
  behind: (seconds: number) => string;
  tooManyPresses: string;
  buttonExpired: string;
  /** A button pressed in another chat than the one its answer was sent to. */
  buttonNotHere: string;
  noMorePassages: string;
  unknownCommand: string;
  onlyText: string;
  adminOnly: string;
  apology: string;
  /** The database behind the bot cannot be reached right now. */
  unavailable: string;
  sourcesHeader: (documents: number, page: number, pages: number) => string;
  previous: string;
  next: string;
  reindexAlreadyRunning: string;
  reindexReading: string;
  reindexRead: (documents: number, skipped: number) => string;
  reindexEmbedded: (done: number, total: number) => string;
  reindexWriting: (passages: number) => string;
  reindexWorking: string;
  reindexDone: (seconds: string, documents: number, passages: number) => string;
  reindexUpToDate: (documents: number, passages: number) => string;
  /** The gates' health: replies to questions cut from the documents' own passages (retrieval/health.ts). */
  ownReplies: (s: ReplyShares) => string;
  /** Documents read and embedded again, and how many of their passages were new (the others kept their vectors). */
  reembedded: (files: string, passages: number) => string;
  reused: (n: number) => string;
  removed: (files: string) => string;
  /** "Renamed: a.pdf → b.pdf" (vectors kept). */
  renamed: (from: string, to: string) => string;
  /** "Copy of a.pdf: b.pdf" (vectors reused). */
  copied: (from: string, to: string) => string;
  /** "…and 590 more" after the first names of a long list. */
  andOthers: (n: number) => string;
  skipped: (file: string, reason: string) => string;
  reindexFailed: (reason: string) => string;
  consoleCommands: string;
  /** The command menu Telegram shows beside the message field (telegram/ui/commands.ts registers it). */
  commandMenu: Record<MenuCommand, string>;
  /** The admin's desk: /stats, feedback, uploads, /remove, who may ask. */
  desk: DeskTexts;
  /** Nouns with counts. */
  documents: Forms;
  passages: Forms;
}

export interface DeskTexts {
  statsDocuments: (n: number) => string;
  statsPassages: (n: number) => string;
  statsModel: (model: string, dim: number) => string;
  statsBuilt: (at: string, minutes: number, running: boolean) => string;
  statsQuestions: (asked: number, sure: number, unsure: number) => string;
  statsMedian: (ms: number | undefined) => string;
  statsGate: (detail: string) => string;
  statsFeedback: (up: number, down: number, unsure: { up: number; down: number }) => string;
  statsLastDown: string;
  statsLastUncovered: string;
  /** In place of the users' questions when /stats is asked in a group. */
  statsQuestionsPrivately: string;
  statsNone: string;
  feedbackThanks: string;
  uploadNotAdmin: string;
  uploadTooBig: (maxMb: number) => string;
  /** `name` undefined: the file came without a name. */
  uploadNotDocument: (name?: string) => string;
  uploadDownloadFailed: string;
  uploadNotStored: string;
  uploadReplace: (file: string) => string;
  replaceYes: string;
  replaceNo: string;
  uploadKept: (file: string) => string;
  uploadRead: (title: string, file: string, passages: number, pages?: number) => string;
  /** `trash`: where the skipped file went; undefined when it could not be moved there (it stays). */
  uploadSkipped: (file: string, reason: string, trash: string | undefined) => string;
  uploadNotIndexed: (file: string) => string;
  /** A replacement was skipped: the version it replaced is back in the index. */
  previousRestored: (file: string) => string;
  /** …or could not be put back: where it is in the trash. */
  previousInTrash: (trash: string) => string;
  removeHeader: (page: number, pages: number) => string;
  addedOn: (date: string) => string;
  removeConfirm: (title: string, file: string) => string;
  removeYes: string;
  cancel: string;
  removeCancelled: string;
  removeDone: (title: string, file: string, trash: string) => string;
  removeGone: string;
  removeNothing: string;
  /** A file the indexer skipped, in /remove and (for admins) /sources: why it is not read. */
  notRead: (reason: string) => string;
  /** Heading of the skipped files at the end of /sources (admins only). */
  sourcesSkipped: (files: number) => string;
  /** Before the outcome of an upload whose indexing a restart interrupted. */
  afterRestart: (outcome: string) => string;
  notAllowed: (id: number) => string;
  accessUsage: string;
  accessAllowed: (id: number) => string;
  accessRevoked: (id: number) => string;
  /** An admin's decision could not be stored (e.g. the disk is full): it did not take effect. */
  decisionNotSaved: string;
}

const PLURALS = Object.fromEntries(LANGS.map((l) => [l, new Intl.PluralRules(l)])) as Record<Lang, Intl.PluralRules>;

/** "1 passage", "3 passages"; "1 фрагмент", "3 фрагмента", "5 фрагментов". */
export function counted(lang: Lang, n: number, forms: Forms): string {
  const rule = PLURALS[lang].select(n);
  return `${n} ${rule === 'one' ? forms[0] : rule === 'few' ? forms[1] : forms[2]}`;
}

const en: Texts = {
  lang: 'en',
  according: (title, where, file) => `According to ${title}, ${where} (${file}):`,
  excerpt: 'excerpt',
  page: 'p.',
  fullPassageHeader: (title, where, file) => `Full passage. According to ${title}, ${where} (${file}):`,
  notCovered: 'The documents do not cover this question.',
  hedged: 'The documents may not answer this exactly. The closest passages:',
  alsoClose: 'Also close, though they may not answer this exactly:',
  theyAreAbout: 'They are about:',
  andMore: (n) => `…and ${n} more (/sources lists them all).`,
  fullPassage: 'Full passage',
  moreResults: 'More results',
  help: (documents, examples) =>
    [
      `I answer questions about ${counted('en', documents, en.documents)} by quoting them word for word, with the document title, paragraph number and file.`,
      'I do not give opinions: every quotation is attributed to its document.',
      '',
      'Ask in English, Russian, Azerbaijani or Turkish. For example:',
      ...examples.map((q) => `  • ${q}`),
    ].join('\n'),
  exampleQuestion: EXAMPLE_QUESTIONS.en,
  trimmed: (max) => `(Your message was long; only its first ${max} characters were used.)`,
  askUsage: 'Write the question after the command, for example: /ask What happened on 27 September 2020?',
  rateLimited: 'You are asking faster than I can answer well. Please wait a minute and ask again.',
  behind: (s) =>
    `Sorry, I fell behind and skipped the questions you sent more than ${s} seconds ago. Please ask them again.`,
  tooManyPresses: 'Too many requests, please wait a minute.',
  buttonExpired: 'This button has expired. Please ask the question again.',
  buttonNotHere: 'This button is not available here.',
  noMorePassages: 'No more passages for this question.',
  unknownCommand: 'I do not know that command. Try /help, or just type your question.',
  onlyText: 'I can only read text. Please type your question.',
  adminOnly: 'Sorry, only the bot’s administrators can do that.',
  apology: 'Sorry, something went wrong while answering. Please try again.',
  unavailable: 'Temporarily unavailable, please try again in a minute.',
  sourcesHeader: (documents, page, pages) =>
    `I quote these ${counted('en', documents, en.documents)}` + (pages > 1 ? ` (page ${page} of ${pages}):` : ':'),
  previous: '◀ Previous',
  next: 'Next ▶',
  reindexAlreadyRunning: 'A re-index is already running; its status message shows the progress and the result.',
  reindexReading: 'Re-indexing: reading documents…',
  reindexRead: (documents, skipped) =>
    `Re-indexing: read ${counted('en', documents, en.documents)} (${skipped} skipped)…`,
  reindexEmbedded: (done, total) => `Re-indexing: embedded ${done}/${counted('en', total, en.passages)}…`,
  reindexWriting: (passages) => `Re-indexing: writing the index (${counted('en', passages, en.passages)})…`,
  reindexWorking: 'Re-indexing…',
  reindexDone: (seconds, documents, passages) =>
    `Re-index done in ${seconds} s: ${counted('en', documents, en.documents)}, ${counted('en', passages, en.passages)}.`,
  reindexUpToDate: (documents, passages) =>
    `Nothing changed: the index is up to date (${counted('en', documents, en.documents)}, ${counted('en', passages, en.passages)}).`,
  ownReplies: (s) =>
    `Questions made from the documents' own passages (${s.questions}): answered ${percent(s.sure)}, closest passages shown ${percent(s.unsure)}, not covered ${percent(s.declined)}.`,
  reembedded: (files, n) => (files ? `Re-embedded: ${files} (new passages: ${n})` : 'Re-embedded: none'),
  reused: (n) => `Reused: ${n} unchanged`,
  removed: (files) => `Removed: ${files}`,
  renamed: (from, to) => `Renamed: ${from} → ${to}`,
  copied: (from, to) => `Copy of ${from}: ${to}`,
  andOthers: (n) => `…and ${n} more`,
  skipped: (file, reason) => `Skipped ${file}: ${reason}`,
  reindexFailed: (reason) => `Re-index failed; the previous index is still serving.\nReason: ${reason}`,
  desk: {
    statsDocuments: (n) => `Documents: ${n}`,
    statsPassages: (n) => `Passages (chunks): ${n}`,
    statsModel: (model, dim) => `Model: ${model} (dimension ${dim})`,
    statsBuilt: (at, minutes, running) =>
      `Index built: ${at} (${minutes} min ago)${running ? ', re-index running' : ''}`,
    statsQuestions: (asked, sure, unsure) =>
      `Questions: ${asked} (answered ${sure}, closest passages shown ${unsure}, not covered ${asked - sure - unsure})`,
    statsMedian: (ms) => `Median answer time: ${ms === undefined ? '–' : `${Math.round(ms)} ms`}`,
    statsGate: (detail) => `"Not covered" gate: ${detail}`,
    statsFeedback: (up, down, unsure) =>
      `Feedback on answers: 👍 ${up}, 👎 ${down} (of them on closest-passage answers: 👍 ${unsure.up}, 👎 ${unsure.down})`,
    statsLastDown: 'Last questions answered with 👎:',
    statsLastUncovered: 'Last questions the documents did not cover:',
    statsQuestionsPrivately: 'The questions users asked are listed in a private chat with me only.',
    statsNone: 'none',
    feedbackThanks: 'Thank you, noted.',
    uploadNotAdmin: 'Thank you, but only the bot’s administrators can add documents.',
    uploadTooBig: (maxMb) =>
      `This file is larger than ${maxMb} MB, the most a bot can download from Telegram. Please send a smaller file.`,
    uploadNotDocument: (name) =>
      `${name ?? 'This file'} is not a document I can read: its content is not text, PDF, DOCX, ODT, EPUB, RTF or HTML.`,
    uploadDownloadFailed: 'I could not download the file from Telegram. Please send it again.',
    uploadNotStored:
      'I could not store the file on the server (its disk refused it); nothing was added. Please try again later.',
    uploadReplace: (file) => `${file} already exists. Replace it with the file you just sent?`,
    replaceYes: 'Replace',
    replaceNo: 'Keep the old one',
    uploadKept: (file) => `Kept the existing ${file}; the new file was discarded.`,
    uploadRead: (title, file, passages, pages) =>
      `Added «${title}» (${file}): ${counted('en', passages, en.passages)}${pages ? `, ${pages} pages` : ''}. It can be asked about now.`,
    uploadSkipped: (file, reason, trash) =>
      `The indexer skipped ${file}: ${reason}. ${trash ? `The file was moved to ${trash}.` : 'The file could not be moved to the trash: it stays where it is, and the index leaves it out.'}`,
    uploadNotIndexed: (file) =>
      `${file} is stored, but the index was not updated (see the message above); /reindex tries again.`,
    previousRestored: (file) => `The version it replaced is back: ${file} is in the index as before.`,
    previousInTrash: (trash) => `The version it replaced is in ${trash}.`,
    removeHeader: (page, pages) => `Which document should I remove?${pages > 1 ? ` (page ${page} of ${pages})` : ''}`,
    addedOn: (date) => `added ${date}`,
    removeConfirm: (title, file) => `Remove «${title}» (${file})? The file is moved to the trash, nothing is deleted.`,
    removeYes: 'Remove',
    cancel: 'Cancel',
    removeCancelled: 'Nothing was removed.',
    removeDone: (title, file, trash) =>
      `Removed «${title}»: ${file} was moved to ${trash}, and the index no longer quotes it.`,
    removeGone: 'That document is no longer in the index (the list has changed). Send /remove again.',
    removeNothing: 'There are no documents to remove.',
    notRead: (reason) => `not read: ${reason}`,
    sourcesSkipped: (files) => `Not read (${files === 1 ? '1 file' : `${files} files`}; /remove can take them out):`,
    afterRestart: (outcome) => `I was restarted while adding your document. ${outcome}`,
    notAllowed: (id) =>
      `Sorry, this bot answers only people its administrators have allowed. To be added, give an administrator your id: ${id}.`,
    accessUsage: 'Reply to a user’s message with /allow or /revoke, or write the user id: /allow 123456789.',
    accessAllowed: (id) => `User ${id} may ask now.`,
    accessRevoked: (id) => `User ${id} may no longer ask.`,
    decisionNotSaved:
      'Not saved: I could not write this down (is the disk full?). Nothing has changed; please try again later.',
  },
  consoleCommands: 'Commands: /sources, /reindex, /quit.',
  commandMenu: {
    ask: 'Ask a question (in groups: /ask your question)',
    sources: 'The documents I quote',
    help: 'How to ask',
    start: 'Start',
    stats: 'Index and usage statistics (admins)',
    reindex: 'Rebuild the index from the documents (admins)',
    remove: 'Remove a document (admins)',
    allow: 'Allow a user to ask: /allow <id> or as a reply (admins)',
    revoke: 'Stop a user from asking: /revoke <id> or as a reply (admins)',
  },
  documents: ['document', 'documents', 'documents'],
  passages: ['passage', 'passages', 'passages'],
};

const ru: Texts = {
  lang: 'ru',
  according: (title, where, file) => `Согласно документу ${title}, ${where} (${file}):`,
  excerpt: 'фрагмент',
  page: 'с.',
  fullPassageHeader: (title, where, file) => `Полный фрагмент. Согласно документу ${title}, ${where} (${file}):`,
  notCovered: 'В документах нет ответа на этот вопрос.',
  hedged: 'Возможно, документы не отвечают на это точно. Ближайшие отрывки:',
  alsoClose: 'Также близкие отрывки, которые, возможно, не отвечают на это точно:',
  theyAreAbout: 'Документы посвящены следующему:',
  andMore: (n) => `…и ещё ${n} (полный список — /sources).`,
  fullPassage: 'Полный фрагмент',
  moreResults: 'Ещё результаты',
  help: (documents, examples) =>
    [
      `Я отвечаю на вопросы по ${counted('ru', documents, ['документу', 'документам', 'документам'])}, цитируя их дословно: с названием документа, номером абзаца и именем файла.`,
      'Я не высказываю мнений: каждая цитата приписана своему документу.',
      '',
      'Спрашивайте по-русски, по-английски, по-азербайджански или по-турецки. Например:',
      ...examples.map((q) => `  • ${q}`),
    ].join('\n'),
  exampleQuestion: EXAMPLE_QUESTIONS.ru,
  trimmed: (max) => `(Сообщение слишком длинное; использованы только первые ${max} символов.)`,
  askUsage: 'Напишите вопрос после команды, например: /ask Что произошло 27 сентября 2020 года?',
  rateLimited: 'Вы спрашиваете быстрее, чем я успеваю хорошо отвечать. Подождите минуту и спросите снова.',
  behind: (s) =>
    `Извините, я не успевал и пропустил вопросы, отправленные больше ${s} секунд назад. Пожалуйста, задайте их снова.`,
  tooManyPresses: 'Слишком много запросов, подождите минуту.',
  buttonExpired: 'Эта кнопка устарела. Пожалуйста, задайте вопрос заново.',
  buttonNotHere: 'Эта кнопка здесь недоступна.',
  noMorePassages: 'Больше фрагментов по этому вопросу нет.',
  unknownCommand: 'Я не знаю такой команды. Наберите /help или просто задайте вопрос.',
  onlyText: 'Я понимаю только текст. Пожалуйста, напишите вопрос.',
  adminOnly: 'Извините, это могут делать только администраторы бота.',
  apology: 'Извините, при ответе что-то пошло не так. Попробуйте ещё раз.',
  unavailable: 'Временно недоступно, попробуйте через минуту.',
  sourcesHeader: (documents, page, pages) =>
    `Я цитирую ${counted('ru', documents, ['документ', 'документа', 'документов'])}` +
    (pages > 1 ? ` (страница ${page} из ${pages}):` : ':'),
  previous: '◀ Назад',
  next: 'Дальше ▶',
  reindexAlreadyRunning: 'Переиндексация уже идёт; её ход и результат видны в сообщении о статусе.',
  reindexReading: 'Переиндексация: чтение документов…',
  reindexRead: (documents, skipped) =>
    `Переиндексация: прочитано ${counted('ru', documents, ru.documents)} (пропущено: ${skipped})…`,
  reindexEmbedded: (done, total) =>
    `Переиндексация: обработано ${done} из ${counted('ru', total, ['фрагмента', 'фрагментов', 'фрагментов'])}…`,
  reindexWriting: (passages) => `Переиндексация: запись индекса (${counted('ru', passages, ru.passages)})…`,
  reindexWorking: 'Переиндексация…',
  reindexDone: (seconds, documents, passages) =>
    `Переиндексация завершена за ${seconds} с: ${counted('ru', documents, ru.documents)}, ${counted('ru', passages, ru.passages)}.`,
  reindexUpToDate: (documents, passages) =>
    `Изменений нет: индекс актуален (${counted('ru', documents, ru.documents)}, ${counted('ru', passages, ru.passages)}).`,
  ownReplies: (s) =>
    `Вопросы из собственных отрывков документов (${s.questions}): отвечено ${percent(s.sure)}, показаны ближайшие отрывки ${percent(s.unsure)}, нет в документах ${percent(s.declined)}.`,
  reembedded: (files, n) => (files ? `Заново обработаны: ${files} (новых фрагментов: ${n})` : 'Заново обработаны: нет'),
  reused: (n) => `Без изменений: ${n}`,
  removed: (files) => `Удалены: ${files}`,
  renamed: (from, to) => `Переименован: ${from} → ${to}`,
  copied: (from, to) => `Копия ${from}: ${to}`,
  andOthers: (n) => `…и ещё ${n}`,
  skipped: (file, reason) => `Пропущен ${file}: ${skipReasonIn('ru', reason)}`,
  reindexFailed: (reason) => `Переиндексация не удалась; отвечает прежний индекс.\nПричина: ${reason}`,
  desk: {
    statsDocuments: (n) => `Документов: ${n}`,
    statsPassages: (n) => `Фрагментов: ${n}`,
    statsModel: (model, dim) => `Модель: ${model} (размерность ${dim})`,
    statsBuilt: (at, minutes, running) =>
      `Индекс построен: ${at} (${minutes} мин назад)${running ? ', идёт переиндексация' : ''}`,
    statsQuestions: (asked, sure, unsure) =>
      `Вопросов: ${asked} (отвечено: ${sure}, показаны ближайшие отрывки: ${unsure}, нет в документах: ${asked - sure - unsure})`,
    statsMedian: (ms) => `Медианное время ответа: ${ms === undefined ? '–' : `${Math.round(ms)} мс`}`,
    statsGate: (detail) => `Порог «нет ответа»: ${detail}`,
    statsFeedback: (up, down, unsure) =>
      `Оценки ответов: 👍 ${up}, 👎 ${down} (из них по ближайшим отрывкам: 👍 ${unsure.up}, 👎 ${unsure.down})`,
    statsLastDown: 'Последние вопросы с оценкой 👎:',
    statsLastUncovered: 'Последние вопросы, на которые в документах нет ответа:',
    statsQuestionsPrivately: 'Вопросы пользователей я показываю только в личном чате со мной.',
    statsNone: 'нет',
    feedbackThanks: 'Спасибо, учтено.',
    uploadNotAdmin: 'Спасибо, но добавлять документы могут только администраторы бота.',
    uploadTooBig: (maxMb) =>
      `Файл больше ${maxMb} МБ — это предел, который бот может скачать из Telegram. Пришлите файл поменьше.`,
    uploadNotDocument: (name) =>
      `${name ?? 'Этот файл'} — не документ, который я умею читать: это не текст, PDF, DOCX, ODT, EPUB, RTF или HTML.`,
    uploadDownloadFailed: 'Не удалось скачать файл из Telegram. Пришлите его ещё раз.',
    uploadNotStored: 'Не удалось сохранить файл на сервере (диск отказал); ничего не добавлено. Попробуйте позже.',
    uploadReplace: (file) => `${file} уже есть. Заменить его только что присланным файлом?`,
    replaceYes: 'Заменить',
    replaceNo: 'Оставить старый',
    uploadKept: (file) => `Оставлен прежний ${file}; новый файл не сохранён.`,
    uploadRead: (title, file, passages, pages) =>
      `Добавлен «${title}» (${file}): ${counted('ru', passages, ru.passages)}${pages ? `, страниц: ${pages}` : ''}. По нему уже можно задавать вопросы.`,
    uploadSkipped: (file, reason, trash) =>
      `Индексатор пропустил ${file}: ${skipReasonIn('ru', reason)}. ${trash ? `Файл перемещён в ${trash}.` : 'Файл не удалось переместить в корзину: он остаётся на месте, индекс его не включает.'}`,
    uploadNotIndexed: (file) =>
      `${file} сохранён, но индекс не обновлён (см. сообщение выше); /reindex попробует снова.`,
    previousRestored: (file) => `Прежняя версия восстановлена: ${file} снова в индексе, как раньше.`,
    previousInTrash: (trash) => `Прежняя версия лежит в ${trash}.`,
    removeHeader: (page, pages) => `Какой документ удалить?${pages > 1 ? ` (страница ${page} из ${pages})` : ''}`,
    addedOn: (date) => `добавлен ${date}`,
    removeConfirm: (title, file) =>
      `Удалить «${title}» (${file})? Файл будет перемещён в корзину, ничего не стирается.`,
    removeYes: 'Удалить',
    cancel: 'Отмена',
    removeCancelled: 'Ничего не удалено.',
    removeDone: (title, file, trash) =>
      `«${title}» удалён: ${file} перемещён в ${trash}, индекс его больше не цитирует.`,
    removeGone: 'Этого документа уже нет в индексе (список изменился). Отправьте /remove ещё раз.',
    removeNothing: 'Удалять нечего: документов нет.',
    notRead: (reason) => `не прочитан: ${skipReasonIn('ru', reason)}`,
    sourcesSkipped: (files) => `Не прочитаны (файлов: ${files}; /remove может их убрать):`,
    afterRestart: (outcome) => `Я перезапустился, пока добавлял ваш документ. ${outcome}`,
    notAllowed: (id) =>
      `Извините, бот отвечает только тем, кому разрешили администраторы. Чтобы вас добавили, сообщите администратору ваш id: ${id}.`,
    accessUsage: 'Ответьте на сообщение пользователя командой /allow или /revoke, или укажите id: /allow 123456789.',
    accessAllowed: (id) => `Пользователь ${id} теперь может задавать вопросы.`,
    accessRevoked: (id) => `Пользователь ${id} больше не может задавать вопросы.`,
    decisionNotSaved: 'Не сохранено: не удалось записать (диск заполнен?). Ничего не изменилось; попробуйте позже.',
  },
  consoleCommands: 'Команды: /sources, /reindex, /quit.',
  commandMenu: {
    ask: 'Задать вопрос (в группах: /ask ваш вопрос)',
    sources: 'Документы, которые я цитирую',
    help: 'Как задавать вопросы',
    start: 'Начать',
    stats: 'Статистика индекса и запросов (админы)',
    reindex: 'Пересобрать индекс по документам (админы)',
    remove: 'Убрать документ (админы)',
    allow: 'Разрешить пользователю спрашивать: /allow <id> или ответом (админы)',
    revoke: 'Запретить пользователю спрашивать: /revoke <id> или ответом (админы)',
  },
  documents: ['документ', 'документа', 'документов'],
  passages: ['фрагмент', 'фрагмента', 'фрагментов'],
};

const az: Texts = {
  lang: 'az',
  according: (title, where, file) => `${title} sənədinə görə, ${where} (${file}):`,
  excerpt: 'parça',
  page: 's.',
  fullPassageHeader: (title, where, file) => `Tam mətn. ${title} sənədinə görə, ${where} (${file}):`,
  notCovered: 'Sənədlərdə bu suala cavab yoxdur.',
  hedged: 'Sənədlər bu suala dəqiq cavab verməyə bilər. Ən yaxın parçalar:',
  alsoClose: 'Yaxın, lakin bu suala dəqiq cavab verməyə bilən parçalar:',
  theyAreAbout: 'Sənədlərin mövzuları:',
  andMore: (n) => `…və daha ${n} sənəd (tam siyahı: /sources).`,
  fullPassage: 'Tam mətn',
  moreResults: 'Daha çox nəticə',
  help: (documents, examples) =>
    [
      `Mən ${counted('az', documents, az.documents)} üzrə suallara onlardan hərfi sitat gətirərək cavab verirəm: sənədin adı, abzasın nömrəsi və fayl göstərilir.`,
      'Mən fikir bildirmirəm: hər sitat öz sənədinə aid edilir.',
      '',
      'Azərbaycan, rus, ingilis və ya türk dilində soruşun. Məsələn:',
      ...examples.map((q) => `  • ${q}`),
    ].join('\n'),
  exampleQuestion: EXAMPLE_QUESTIONS.az,
  trimmed: (max) => `(Mesajınız uzun idi; yalnız ilk ${max} simvoldan istifadə olundu.)`,
  askUsage: 'Sualı əmrdən sonra yazın, məsələn: /ask 27 sentyabr 2020-ci ildə nə baş verdi?',
  rateLimited: 'Siz mənim yaxşı cavab verə biləcəyimdən daha tez soruşursunuz. Bir dəqiqə gözləyib yenidən soruşun.',
  behind: (s) =>
    `Bağışlayın, gecikdim və ${s} saniyədən çox əvvəl göndərdiyiniz sualları buraxdım. Zəhmət olmasa, onları yenidən soruşun.`,
  tooManyPresses: 'Həddindən çox sorğu, bir dəqiqə gözləyin.',
  buttonExpired: 'Bu düymənin vaxtı keçib. Zəhmət olmasa, sualı yenidən verin.',
  buttonNotHere: 'Bu düymə burada əlçatan deyil.',
  noMorePassages: 'Bu sual üzrə başqa mətn yoxdur.',
  unknownCommand: 'Bu əmri tanımıram. /help yazın və ya sadəcə sualınızı verin.',
  onlyText: 'Mən yalnız mətni oxuya bilirəm. Zəhmət olmasa, sualınızı yazın.',
  adminOnly: 'Bağışlayın, bunu yalnız botun administratorları edə bilər.',
  apology: 'Bağışlayın, cavab verərkən xəta baş verdi. Yenidən cəhd edin.',
  unavailable: 'Müvəqqəti olaraq əlçatan deyil, bir dəqiqədən sonra yenidən cəhd edin.',
  sourcesHeader: (documents, page, pages) =>
    `Sitat gətirdiyim ${counted('az', documents, az.documents)}` + (pages > 1 ? ` (səhifə ${page}/${pages}):` : ':'),
  previous: '◀ Əvvəlki',
  next: 'Növbəti ▶',
  reindexAlreadyRunning: 'Yenidən indeksləmə artıq gedir; gedişatı və nəticəsi status mesajında görünür.',
  reindexReading: 'Yenidən indeksləmə: sənədlər oxunur…',
  reindexRead: (documents, skipped) =>
    `Yenidən indeksləmə: ${counted('az', documents, az.documents)} oxundu (${skipped} buraxıldı)…`,
  reindexEmbedded: (done, total) => `Yenidən indeksləmə: ${done}/${counted('az', total, az.passages)} işləndi…`,
  reindexWriting: (passages) => `Yenidən indeksləmə: indeks yazılır (${counted('az', passages, az.passages)})…`,
  reindexWorking: 'Yenidən indeksləmə…',
  reindexDone: (seconds, documents, passages) =>
    `Yenidən indeksləmə ${seconds} saniyəyə başa çatdı: ${counted('az', documents, az.documents)}, ${counted('az', passages, az.passages)}.`,
  reindexUpToDate: (documents, passages) =>
    `Dəyişiklik yoxdur: indeks aktualdır (${counted('az', documents, az.documents)}, ${counted('az', passages, az.passages)}).`,
  ownReplies: (s) =>
    `Sənədlərin öz parçalarından suallar (${s.questions}): cavablanan ${percent(s.sure)}, ən yaxın parçalar göstərilən ${percent(s.unsure)}, sənədlərdə olmayan ${percent(s.declined)}.`,
  reembedded: (files, n) =>
    files ? `Yenidən işlənən: ${files} (yeni mətn parçaları: ${n})` : 'Yenidən işlənən: yoxdur',
  reused: (n) => `Dəyişməyən: ${n}`,
  removed: (files) => `Silinən: ${files}`,
  renamed: (from, to) => `Adı dəyişdi: ${from} → ${to}`,
  copied: (from, to) => `${from} surəti: ${to}`,
  andOthers: (n) => `…və daha ${n}`,
  skipped: (file, reason) => `Buraxıldı ${file}: ${skipReasonIn('az', reason)}`,
  reindexFailed: (reason) => `Yenidən indeksləmə alınmadı; əvvəlki indeks işləməyə davam edir.\nSəbəb: ${reason}`,
  desk: {
    statsDocuments: (n) => `Sənədlər: ${n}`,
    statsPassages: (n) => `Mətn parçaları: ${n}`,
    statsModel: (model, dim) => `Model: ${model} (ölçü ${dim})`,
    statsBuilt: (at, minutes, running) =>
      `İndeks quruldu: ${at} (${minutes} dəq əvvəl)${running ? ', yenidən indeksləmə gedir' : ''}`,
    statsQuestions: (asked, sure, unsure) =>
      `Suallar: ${asked} (cavablanan: ${sure}, ən yaxın parçalar göstərilən: ${unsure}, sənədlərdə olmayan: ${asked - sure - unsure})`,
    statsMedian: (ms) => `Orta cavab müddəti (median): ${ms === undefined ? '–' : `${Math.round(ms)} ms`}`,
    statsGate: (detail) => `"Cavab yoxdur" həddi: ${detail}`,
    statsFeedback: (up, down, unsure) =>
      `Cavablara rəylər: 👍 ${up}, 👎 ${down} (onlardan ən yaxın parçalara: 👍 ${unsure.up}, 👎 ${unsure.down})`,
    statsLastDown: '👎 ilə qiymətləndirilən son suallar:',
    statsLastUncovered: 'Sənədlərin cavab vermədiyi son suallar:',
    statsQuestionsPrivately: 'İstifadəçilərin suallarını yalnız mənimlə şəxsi söhbətdə göstərirəm.',
    statsNone: 'yoxdur',
    feedbackThanks: 'Təşəkkürlər, qeyd edildi.',
    uploadNotAdmin: 'Təşəkkürlər, amma sənədləri yalnız botun adminləri əlavə edə bilər.',
    uploadTooBig: (maxMb) =>
      `Bu fayl ${maxMb} MB-dan böyükdür — bot Telegram-dan ən çox bu qədər yükləyə bilər. Daha kiçik fayl göndərin.`,
    uploadNotDocument: (name) =>
      `${name ?? 'Bu fayl'} oxuya bildiyim sənəd deyil: məzmunu mətn, PDF, DOCX, ODT, EPUB, RTF və ya HTML deyil.`,
    uploadDownloadFailed: 'Faylı Telegram-dan yükləyə bilmədim. Zəhmət olmasa, yenidən göndərin.',
    uploadNotStored:
      'Faylı serverdə saxlaya bilmədim (disk imtina etdi); heç nə əlavə edilmədi. Zəhmət olmasa, sonra yenidən cəhd edin.',
    uploadReplace: (file) => `${file} artıq var. Onu indi göndərdiyiniz faylla əvəz edim?`,
    replaceYes: 'Əvəz et',
    replaceNo: 'Köhnəni saxla',
    uploadKept: (file) => `Mövcud ${file} saxlanıldı; yeni fayl atıldı.`,
    uploadRead: (title, file, passages, pages) =>
      `«${title}» əlavə edildi (${file}): ${counted('az', passages, az.passages)}${pages ? `, ${pages} səhifə` : ''}. Artıq onun haqqında soruşmaq olar.`,
    uploadSkipped: (file, reason, trash) =>
      `İndeksator ${file} faylını buraxdı: ${skipReasonIn('az', reason)}. ${trash ? `Fayl ${trash} qovluğuna köçürüldü.` : 'Fayl zibil qutusuna köçürülə bilmədi: yerində qalır, indeksə daxil edilmir.'}`,
    uploadNotIndexed: (file) =>
      `${file} saxlanıldı, amma indeks yenilənmədi (yuxarıdakı mesaja baxın); /reindex yenidən cəhd edir.`,
    previousRestored: (file) => `Əvvəlki versiya bərpa olundu: ${file} yenə əvvəlki kimi indeksdədir.`,
    previousInTrash: (trash) => `Əvvəlki versiya ${trash} qovluğundadır.`,
    removeHeader: (page, pages) => `Hansı sənədi silim?${pages > 1 ? ` (səhifə ${page}/${pages})` : ''}`,
    addedOn: (date) => `əlavə edilib ${date}`,
    removeConfirm: (title, file) => `«${title}» (${file}) silinsin? Fayl zibil qutusuna köçürülür, heç nə pozulmur.`,
    removeYes: 'Sil',
    cancel: 'Ləğv et',
    removeCancelled: 'Heç nə silinmədi.',
    removeDone: (title, file, trash) =>
      `«${title}» silindi: ${file} ${trash} qovluğuna köçürüldü, indeks artıq ondan sitat gətirmir.`,
    removeGone: 'Bu sənəd artıq indeksdə yoxdur (siyahı dəyişib). /remove əmrini yenidən göndərin.',
    removeNothing: 'Silinəcək sənəd yoxdur.',
    notRead: (reason) => `oxunmadı: ${skipReasonIn('az', reason)}`,
    sourcesSkipped: (files) => `Oxunmayanlar (${files} fayl; /remove onları çıxara bilər):`,
    afterRestart: (outcome) => `Sənədinizi əlavə edərkən yenidən başladım. ${outcome}`,
    notAllowed: (id) =>
      `Bağışlayın, bu bot yalnız adminlərin icazə verdiyi şəxslərə cavab verir. Əlavə olunmaq üçün adminə id-nizi bildirin: ${id}.`,
    accessUsage: 'İstifadəçinin mesajına /allow və ya /revoke ilə cavab verin, ya da id yazın: /allow 123456789.',
    accessAllowed: (id) => `${id} istifadəçisi artıq soruşa bilər.`,
    accessRevoked: (id) => `${id} istifadəçisi artıq soruşa bilməz.`,
    decisionNotSaved:
      'Yadda saxlanmadı: bunu yaza bilmədim (disk doludur?). Heç nə dəyişmədi; zəhmət olmasa, sonra yenidən cəhd edin.',
  },
  consoleCommands: 'Əmrlər: /sources, /reindex, /quit.',
  commandMenu: {
    ask: 'Sual verin (qruplarda: /ask sualınız)',
    sources: 'Sitat gətirdiyim sənədlər',
    help: 'Necə soruşmaq olar',
    start: 'Başla',
    stats: 'İndeks və istifadə statistikası (adminlər)',
    reindex: 'İndeksi sənədlərdən yenidən qur (adminlər)',
    remove: 'Sənədi çıxar (adminlər)',
    allow: 'İstifadəçiyə sual verməyə icazə ver: /allow <id> və ya cavabla (adminlər)',
    revoke: 'İstifadəçinin sual vermə icazəsini ləğv et: /revoke <id> və ya cavabla (adminlər)',
  },
  documents: ['sənəd', 'sənəd', 'sənəd'],
  passages: ['mətn parçası', 'mətn parçası', 'mətn parçası'],
};

const tr: Texts = {
  lang: 'tr',
  according: (title, where, file) => `${title} belgesine göre, ${where} (${file}):`,
  excerpt: 'alıntı',
  page: 's.',
  fullPassageHeader: (title, where, file) => `Metnin tamamı. ${title} belgesine göre, ${where} (${file}):`,
  notCovered: 'Belgelerde bu sorunun cevabı yok.',
  hedged: 'Belgeler bu soruyu tam olarak cevaplamıyor olabilir. En yakın pasajlar:',
  alsoClose: 'Yakın, ancak bu soruyu tam olarak cevaplamayabilecek pasajlar:',
  theyAreAbout: 'Belgelerin konuları:',
  andMore: (n) => `…ve ${n} belge daha (tam liste: /sources).`,
  fullPassage: 'Metnin tamamı',
  moreResults: 'Daha fazla sonuç',
  help: (documents, examples) =>
    [
      `${counted('tr', documents, tr.documents)} hakkındaki soruları, bu belgelerden kelimesi kelimesine alıntı yaparak cevaplıyorum: belge adı, paragraf numarası ve dosya adıyla.`,
      'Görüş bildirmem: her alıntı kendi belgesine atfedilir.',
      '',
      'Türkçe, Rusça, Azerbaycan Türkçesi veya İngilizce sorabilirsiniz. Örneğin:',
      ...examples.map((q) => `  • ${q}`),
    ].join('\n'),
  exampleQuestion: EXAMPLE_QUESTIONS.tr,
  trimmed: (max) => `(Mesajınız uzundu; yalnızca ilk ${max} karakteri kullanıldı.)`,
  askUsage: 'Soruyu komuttan sonra yazın, örneğin: /ask 27 Eylül 2020’de ne oldu?',
  rateLimited: 'İyi cevap verebileceğimden daha hızlı soruyorsunuz. Lütfen bir dakika bekleyip tekrar sorun.',
  behind: (s) =>
    `Üzgünüm, geride kaldım ve ${s} saniyeden daha önce gönderdiğiniz soruları atladım. Lütfen onları yeniden sorun.`,
  tooManyPresses: 'Çok fazla istek, lütfen bir dakika bekleyin.',
  buttonExpired: 'Bu düğmenin süresi doldu. Lütfen soruyu yeniden sorun.',
  buttonNotHere: 'Bu düğme burada kullanılamaz.',
  noMorePassages: 'Bu soru için başka metin yok.',
  unknownCommand: 'Bu komutu bilmiyorum. /help yazın ya da doğrudan sorunuzu sorun.',
  onlyText: 'Yalnızca metin okuyabiliyorum. Lütfen sorunuzu yazın.',
  adminOnly: 'Üzgünüm, bunu yalnızca botun yöneticileri yapabilir.',
  apology: 'Üzgünüm, cevap verirken bir hata oluştu. Lütfen tekrar deneyin.',
  unavailable: 'Geçici olarak kullanılamıyor, lütfen bir dakika sonra tekrar deneyin.',
  sourcesHeader: (documents, page, pages) =>
    `Alıntı yaptığım ${counted('tr', documents, tr.documents)}` + (pages > 1 ? ` (sayfa ${page}/${pages}):` : ':'),
  previous: '◀ Önceki',
  next: 'Sonraki ▶',
  reindexAlreadyRunning: 'Yeniden dizinleme zaten sürüyor; ilerlemesi ve sonucu durum mesajında görünüyor.',
  reindexReading: 'Yeniden dizinleme: belgeler okunuyor…',
  reindexRead: (documents, skipped) =>
    `Yeniden dizinleme: ${counted('tr', documents, tr.documents)} okundu (${skipped} atlandı)…`,
  reindexEmbedded: (done, total) => `Yeniden dizinleme: ${done}/${counted('tr', total, tr.passages)} işlendi…`,
  reindexWriting: (passages) => `Yeniden dizinleme: dizin yazılıyor (${counted('tr', passages, tr.passages)})…`,
  reindexWorking: 'Yeniden dizinleme…',
  reindexDone: (seconds, documents, passages) =>
    `Yeniden dizinleme ${seconds} saniyede tamamlandı: ${counted('tr', documents, tr.documents)}, ${counted('tr', passages, tr.passages)}.`,
  reindexUpToDate: (documents, passages) =>
    `Değişiklik yok: dizin güncel (${counted('tr', documents, tr.documents)}, ${counted('tr', passages, tr.passages)}).`,
  ownReplies: (s) =>
    `Belgelerin kendi pasajlarından sorular (${s.questions}): cevaplanan ${percent(s.sure)}, en yakın pasajlar gösterilen ${percent(s.unsure)}, belgelerde olmayan ${percent(s.declined)}.`,
  reembedded: (files, n) => (files ? `Yeniden işlenen: ${files} (yeni metin parçaları: ${n})` : 'Yeniden işlenen: yok'),
  reused: (n) => `Değişmeyen: ${n}`,
  removed: (files) => `Silinen: ${files}`,
  renamed: (from, to) => `Yeniden adlandırıldı: ${from} → ${to}`,
  copied: (from, to) => `${from} kopyası: ${to}`,
  andOthers: (n) => `…ve ${n} tane daha`,
  skipped: (file, reason) => `Atlandı ${file}: ${skipReasonIn('tr', reason)}`,
  reindexFailed: (reason) =>
    `Yeniden dizinleme başarısız oldu; önceki dizin hizmet vermeye devam ediyor.\nSebep: ${reason}`,
  desk: {
    statsDocuments: (n) => `Belgeler: ${n}`,
    statsPassages: (n) => `Metin parçaları: ${n}`,
    statsModel: (model, dim) => `Model: ${model} (boyut ${dim})`,
    statsBuilt: (at, minutes, running) =>
      `Dizin oluşturuldu: ${at} (${minutes} dk önce)${running ? ', yeniden dizinleme sürüyor' : ''}`,
    statsQuestions: (asked, sure, unsure) =>
      `Sorular: ${asked} (cevaplanan: ${sure}, en yakın pasajlar gösterilen: ${unsure}, belgelerde olmayan: ${asked - sure - unsure})`,
    statsMedian: (ms) => `Ortanca cevap süresi: ${ms === undefined ? '–' : `${Math.round(ms)} ms`}`,
    statsGate: (detail) => `"Cevap yok" eşiği: ${detail}`,
    statsFeedback: (up, down, unsure) =>
      `Cevaplara geri bildirim: 👍 ${up}, 👎 ${down} (bunlardan en yakın pasajlara: 👍 ${unsure.up}, 👎 ${unsure.down})`,
    statsLastDown: '👎 verilen son sorular:',
    statsLastUncovered: 'Belgelerin cevaplamadığı son sorular:',
    statsQuestionsPrivately: 'Kullanıcıların sorularını yalnızca benimle özel sohbette gösteriyorum.',
    statsNone: 'yok',
    feedbackThanks: 'Teşekkürler, not edildi.',
    uploadNotAdmin: 'Teşekkürler, ancak belgeleri yalnızca botun yöneticileri ekleyebilir.',
    uploadTooBig: (maxMb) =>
      `Bu dosya ${maxMb} MB'tan büyük; bir bot Telegram'dan en fazla bu kadar indirebilir. Lütfen daha küçük bir dosya gönderin.`,
    uploadNotDocument: (name) =>
      `${name ?? 'Bu dosya'} okuyabildiğim bir belge değil: içeriği metin, PDF, DOCX, ODT, EPUB, RTF veya HTML değil.`,
    uploadDownloadFailed: "Dosyayı Telegram'dan indiremedim. Lütfen tekrar gönderin.",
    uploadNotStored:
      'Dosyayı sunucuya kaydedemedim (disk reddetti); hiçbir şey eklenmedi. Lütfen daha sonra tekrar deneyin.',
    uploadReplace: (file) => `${file} zaten var. Az önce gönderdiğiniz dosyayla değiştirilsin mi?`,
    replaceYes: 'Değiştir',
    replaceNo: 'Eskisini koru',
    uploadKept: (file) => `Mevcut ${file} korundu; yeni dosya atıldı.`,
    uploadRead: (title, file, passages, pages) =>
      `«${title}» eklendi (${file}): ${counted('tr', passages, tr.passages)}${pages ? `, ${pages} sayfa` : ''}. Artık hakkında soru sorulabilir.`,
    uploadSkipped: (file, reason, trash) =>
      `Dizinleyici ${file} dosyasını atladı: ${skipReasonIn('tr', reason)}. ${trash ? `Dosya ${trash} klasörüne taşındı.` : 'Dosya çöp kutusuna taşınamadı: yerinde kalıyor, dizine alınmıyor.'}`,
    uploadNotIndexed: (file) =>
      `${file} kaydedildi, ancak dizin güncellenmedi (yukarıdaki mesaja bakın); /reindex yeniden dener.`,
    previousRestored: (file) => `Yerine geçtiği sürüm geri getirildi: ${file} eskisi gibi dizinde.`,
    previousInTrash: (trash) => `Önceki sürüm ${trash} içinde.`,
    removeHeader: (page, pages) => `Hangi belge kaldırılsın?${pages > 1 ? ` (sayfa ${page}/${pages})` : ''}`,
    addedOn: (date) => `eklendi ${date}`,
    removeConfirm: (title, file) =>
      `«${title}» (${file}) kaldırılsın mı? Dosya çöp klasörüne taşınır, hiçbir şey silinmez.`,
    removeYes: 'Kaldır',
    cancel: 'Vazgeç',
    removeCancelled: 'Hiçbir şey kaldırılmadı.',
    removeDone: (title, file, trash) =>
      `«${title}» kaldırıldı: ${file}, ${trash} klasörüne taşındı; dizin artık ondan alıntı yapmıyor.`,
    removeGone: 'Bu belge artık dizinde yok (liste değişti). /remove komutunu tekrar gönderin.',
    removeNothing: 'Kaldırılacak belge yok.',
    notRead: (reason) => `okunmadı: ${skipReasonIn('tr', reason)}`,
    sourcesSkipped: (files) => `Okunmayanlar (${files} dosya; /remove bunları kaldırabilir):`,
    afterRestart: (outcome) => `Belgenizi eklerken yeniden başlatıldım. ${outcome}`,
    notAllowed: (id) =>
      `Üzgünüm, bu bot yalnızca yöneticilerinin izin verdiği kişilere cevap veriyor. Eklenmek için bir yöneticiye kimliğinizi iletin: ${id}.`,
    accessUsage: 'Bir kullanıcının mesajına /allow veya /revoke ile cevap verin ya da kimliği yazın: /allow 123456789.',
    accessAllowed: (id) => `${id} kullanıcısı artık soru sorabilir.`,
    accessRevoked: (id) => `${id} kullanıcısı artık soru soramaz.`,
    decisionNotSaved:
      'Kaydedilmedi: bunu yazamadım (disk dolu mu?). Hiçbir şey değişmedi; lütfen daha sonra yeniden deneyin.',
  },
  consoleCommands: 'Komutlar: /sources, /reindex, /quit.',
  commandMenu: {
    ask: 'Soru sorun (gruplarda: /ask sorunuz)',
    sources: 'Alıntı yaptığım belgeler',
    help: 'Nasıl sorulur',
    start: 'Başlat',
    stats: 'Dizin ve kullanım istatistikleri (yöneticiler)',
    reindex: 'Dizini belgelerden yeniden oluştur (yöneticiler)',
    remove: 'Bir belgeyi kaldır (yöneticiler)',
    allow: 'Bir kullanıcının soru sormasına izin ver: /allow <id> veya cevap olarak (yöneticiler)',
    revoke: 'Bir kullanıcının soru sorma iznini kaldır: /revoke <id> veya cevap olarak (yöneticiler)',
  },
  documents: ['belge', 'belge', 'belge'],
  passages: ['metin parçası', 'metin parçası', 'metin parçası'],
};

export const TEXTS: Record<Lang, Texts> = { en, ru, az, tr };

/**
 * The language of a text by its letters: Cyrillic → Russian; Latin with ə → Azerbaijani; Latin with
 * the letters Turkish shares with Azerbaijani (ı ğ ş ç ö ü İ) → Azerbaijani if it also has x or q,
 * which Turkish does not use ("Xocalı"), else Turkish; anything else → English.
 */
export function languageOfText(text: string): Lang {
  if (/\p{Script=Cyrillic}/u.test(text)) return 'ru';
  if (/[əƏ]/u.test(text)) return 'az';
  if (/[ıİğĞşŞçÇöÖüÜ]/u.test(text)) return /[xXqQ]/u.test(text) ? 'az' : 'tr';
  return 'en';
}

/** A Telegram user's language_code ("ru", "ru-RU", "az", "tr", "en-GB") if it is one of ours. */
export function languageOfCode(code: string | undefined): Lang | undefined {
  const base = code?.toLowerCase().split(/[-_]/)[0];
  return LANGS.find((l) => l === base);
}
