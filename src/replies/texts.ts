/**
 * Every fixed text the bot and the console show, in the four languages users write in. Quotations
 * and titles are never translated: only the words around them. A missing key in a language is a
 * type error.
 */
export type Lang = 'en' | 'ru' | 'az' | 'tr';
export const LANGS: readonly Lang[] = ['en', 'ru', 'az', 'tr'];

/** Noun forms for counts: [one, few, many] (Russian needs three; the others use one or two). */
type Forms = [string, string, string];

export interface Texts {
  /** "According to «title», ¶4 (file):" — `title` and `where` come already formatted. */
  according: (title: string, where: string, file: string) => string;
  /** "excerpt ¶26–31" in "¶29 (excerpt ¶26–31)". */
  excerpt: string;
  /** "p." in "p. 3 ¶2" (a page of a PDF). */
  page: string;
  fullPassageHeader: (title: string, where: string, file: string) => string;
  notCovered: string;
  theyAreAbout: string;
  andMore: (n: number) => string;
  fullPassage: string;
  moreResults: string;
  help: (documents: number, examples: string[]) => string;
  exampleQuestion: (subject: string) => string;
  trimmed: (max: number) => string;
  askUsage: string;
  rateLimited: string;
  tooManyPresses: string;
  buttonExpired: string;
  noMorePassages: string;
  unknownCommand: string;
  onlyText: string;
  adminOnly: string;
  apology: string;
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
  reembedded: (files: string) => string;
  reused: (n: number) => string;
  removed: (files: string) => string;
  skipped: (file: string, reason: string) => string;
  reindexFailed: (reason: string) => string;
  consoleCommands: string;
  /** Nouns with counts. */
  documents: Forms;
  passages: Forms;
}

const PLURALS = Object.fromEntries(LANGS.map((l) => [l, new Intl.PluralRules(l)])) as Record<Lang, Intl.PluralRules>;

/** "1 passage", "3 passages"; "1 фрагмент", "3 фрагмента", "5 фрагментов". */
export function counted(lang: Lang, n: number, forms: Forms): string {
  const rule = PLURALS[lang].select(n);
  return `${n} ${rule === 'one' ? forms[0] : rule === 'few' ? forms[1] : forms[2]}`;
}

const en: Texts = {
  according: (title, where, file) => `According to ${title}, ${where} (${file}):`,
  excerpt: 'excerpt',
  page: 'p.',
  fullPassageHeader: (title, where, file) => `Full passage. According to ${title}, ${where} (${file}):`,
  notCovered: 'The documents do not cover this question.',
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
  exampleQuestion: (subject) => `What do the documents say about the ${subject}?`,
  trimmed: (max) => `(Your message was long; only its first ${max} characters were used.)`,
  askUsage: 'Write the question after the command, for example: /ask What happened on 27 September 2020?',
  rateLimited: 'You are asking faster than I can answer well. Please wait a minute and ask again.',
  tooManyPresses: 'Too many requests, please wait a minute.',
  buttonExpired: 'This button has expired. Please ask the question again.',
  noMorePassages: 'No more passages for this question.',
  unknownCommand: 'I do not know that command. Try /help, or just type your question.',
  onlyText: 'I can only read text. Please type your question.',
  adminOnly: 'Sorry, only the bot’s administrators can do that.',
  apology: 'Sorry, something went wrong while answering. Please try again.',
  sourcesHeader: (documents, page, pages) => `I quote these ${counted('en', documents, en.documents)}` + (pages > 1 ? ` (page ${page} of ${pages}):` : ':'),
  previous: '◀ Previous',
  next: 'Next ▶',
  reindexAlreadyRunning: 'A re-index is already running; its status message shows the progress and the result.',
  reindexReading: 'Re-indexing: reading documents…',
  reindexRead: (documents, skipped) => `Re-indexing: read ${counted('en', documents, en.documents)} (${skipped} skipped)…`,
  reindexEmbedded: (done, total) => `Re-indexing: embedded ${done}/${counted('en', total, en.passages)}…`,
  reindexWriting: (passages) => `Re-indexing: writing the index (${counted('en', passages, en.passages)})…`,
  reindexWorking: 'Re-indexing…',
  reindexDone: (seconds, documents, passages) => `Re-index done in ${seconds} s: ${counted('en', documents, en.documents)}, ${counted('en', passages, en.passages)}.`,
  reindexUpToDate: (documents, passages) => `Nothing changed: the index is up to date (${counted('en', documents, en.documents)}, ${counted('en', passages, en.passages)}).`,
  reembedded: (files) => `Re-embedded: ${files || 'none'}`,
  reused: (n) => `Reused: ${n} unchanged`,
  removed: (files) => `Removed: ${files}`,
  skipped: (file, reason) => `Skipped ${file}: ${reason}`,
  reindexFailed: (reason) => `Re-index failed; the previous index is still serving.\nReason: ${reason}`,
  consoleCommands: 'Commands: /sources, /reindex, /quit.',
  documents: ['document', 'documents', 'documents'],
  passages: ['passage', 'passages', 'passages'],
};

const ru: Texts = {
  according: (title, where, file) => `Согласно документу ${title}, ${where} (${file}):`,
  excerpt: 'фрагмент',
  page: 'с.',
  fullPassageHeader: (title, where, file) => `Полный фрагмент. Согласно документу ${title}, ${where} (${file}):`,
  notCovered: 'В документах нет ответа на этот вопрос.',
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
  exampleQuestion: (subject) => `Что говорится в документах о «${subject}»?`,
  trimmed: (max) => `(Сообщение слишком длинное; использованы только первые ${max} символов.)`,
  askUsage: 'Напишите вопрос после команды, например: /ask Что произошло 27 сентября 2020 года?',
  rateLimited: 'Вы спрашиваете быстрее, чем я успеваю хорошо отвечать. Подождите минуту и спросите снова.',
  tooManyPresses: 'Слишком много запросов, подождите минуту.',
  buttonExpired: 'Эта кнопка устарела. Пожалуйста, задайте вопрос заново.',
  noMorePassages: 'Больше фрагментов по этому вопросу нет.',
  unknownCommand: 'Я не знаю такой команды. Наберите /help или просто задайте вопрос.',
  onlyText: 'Я понимаю только текст. Пожалуйста, напишите вопрос.',
  adminOnly: 'Извините, это могут делать только администраторы бота.',
  apology: 'Извините, при ответе что-то пошло не так. Попробуйте ещё раз.',
  sourcesHeader: (documents, page, pages) =>
    `Я цитирую ${counted('ru', documents, ['документ', 'документа', 'документов'])}` + (pages > 1 ? ` (страница ${page} из ${pages}):` : ':'),
  previous: '◀ Назад',
  next: 'Дальше ▶',
  reindexAlreadyRunning: 'Переиндексация уже идёт; её ход и результат видны в сообщении о статусе.',
  reindexReading: 'Переиндексация: чтение документов…',
  reindexRead: (documents, skipped) => `Переиндексация: прочитано ${counted('ru', documents, ru.documents)} (пропущено: ${skipped})…`,
  reindexEmbedded: (done, total) => `Переиндексация: обработано ${done} из ${counted('ru', total, ['фрагмента', 'фрагментов', 'фрагментов'])}…`,
  reindexWriting: (passages) => `Переиндексация: запись индекса (${counted('ru', passages, ru.passages)})…`,
  reindexWorking: 'Переиндексация…',
  reindexDone: (seconds, documents, passages) => `Переиндексация завершена за ${seconds} с: ${counted('ru', documents, ru.documents)}, ${counted('ru', passages, ru.passages)}.`,
  reindexUpToDate: (documents, passages) => `Изменений нет: индекс актуален (${counted('ru', documents, ru.documents)}, ${counted('ru', passages, ru.passages)}).`,
  reembedded: (files) => `Заново обработаны: ${files || 'нет'}`,
  reused: (n) => `Без изменений: ${n}`,
  removed: (files) => `Удалены: ${files}`,
  skipped: (file, reason) => `Пропущен ${file}: ${reason}`,
  reindexFailed: (reason) => `Переиндексация не удалась; отвечает прежний индекс.\nПричина: ${reason}`,
  consoleCommands: 'Команды: /sources, /reindex, /quit.',
  documents: ['документ', 'документа', 'документов'],
  passages: ['фрагмент', 'фрагмента', 'фрагментов'],
};

const az: Texts = {
  according: (title, where, file) => `${title} sənədinə görə, ${where} (${file}):`,
  excerpt: 'parça',
  page: 's.',
  fullPassageHeader: (title, where, file) => `Tam mətn. ${title} sənədinə görə, ${where} (${file}):`,
  notCovered: 'Sənədlərdə bu suala cavab yoxdur.',
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
  exampleQuestion: (subject) => `Sənədlərdə «${subject}» haqqında nə deyilir?`,
  trimmed: (max) => `(Mesajınız uzun idi; yalnız ilk ${max} simvoldan istifadə olundu.)`,
  askUsage: 'Sualı əmrdən sonra yazın, məsələn: /ask 27 sentyabr 2020-ci ildə nə baş verdi?',
  rateLimited: 'Siz mənim yaxşı cavab verə biləcəyimdən daha tez soruşursunuz. Bir dəqiqə gözləyib yenidən soruşun.',
  tooManyPresses: 'Həddindən çox sorğu, bir dəqiqə gözləyin.',
  buttonExpired: 'Bu düymənin vaxtı keçib. Zəhmət olmasa, sualı yenidən verin.',
  noMorePassages: 'Bu sual üzrə başqa mətn yoxdur.',
  unknownCommand: 'Bu əmri tanımıram. /help yazın və ya sadəcə sualınızı verin.',
  onlyText: 'Mən yalnız mətni oxuya bilirəm. Zəhmət olmasa, sualınızı yazın.',
  adminOnly: 'Bağışlayın, bunu yalnız botun administratorları edə bilər.',
  apology: 'Bağışlayın, cavab verərkən xəta baş verdi. Yenidən cəhd edin.',
  sourcesHeader: (documents, page, pages) => `Sitat gətirdiyim ${counted('az', documents, az.documents)}` + (pages > 1 ? ` (səhifə ${page}/${pages}):` : ':'),
  previous: '◀ Əvvəlki',
  next: 'Növbəti ▶',
  reindexAlreadyRunning: 'Yenidən indeksləmə artıq gedir; gedişatı və nəticəsi status mesajında görünür.',
  reindexReading: 'Yenidən indeksləmə: sənədlər oxunur…',
  reindexRead: (documents, skipped) => `Yenidən indeksləmə: ${counted('az', documents, az.documents)} oxundu (${skipped} buraxıldı)…`,
  reindexEmbedded: (done, total) => `Yenidən indeksləmə: ${done}/${counted('az', total, az.passages)} işləndi…`,
  reindexWriting: (passages) => `Yenidən indeksləmə: indeks yazılır (${counted('az', passages, az.passages)})…`,
  reindexWorking: 'Yenidən indeksləmə…',
  reindexDone: (seconds, documents, passages) => `Yenidən indeksləmə ${seconds} saniyəyə başa çatdı: ${counted('az', documents, az.documents)}, ${counted('az', passages, az.passages)}.`,
  reindexUpToDate: (documents, passages) => `Dəyişiklik yoxdur: indeks aktualdır (${counted('az', documents, az.documents)}, ${counted('az', passages, az.passages)}).`,
  reembedded: (files) => `Yenidən işlənən: ${files || 'yoxdur'}`,
  reused: (n) => `Dəyişməyən: ${n}`,
  removed: (files) => `Silinən: ${files}`,
  skipped: (file, reason) => `Buraxıldı ${file}: ${reason}`,
  reindexFailed: (reason) => `Yenidən indeksləmə alınmadı; əvvəlki indeks işləməyə davam edir.\nSəbəb: ${reason}`,
  consoleCommands: 'Əmrlər: /sources, /reindex, /quit.',
  documents: ['sənəd', 'sənəd', 'sənəd'],
  passages: ['mətn parçası', 'mətn parçası', 'mətn parçası'],
};

const tr: Texts = {
  according: (title, where, file) => `${title} belgesine göre, ${where} (${file}):`,
  excerpt: 'alıntı',
  page: 's.',
  fullPassageHeader: (title, where, file) => `Metnin tamamı. ${title} belgesine göre, ${where} (${file}):`,
  notCovered: 'Belgelerde bu sorunun cevabı yok.',
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
  exampleQuestion: (subject) => `Belgeler «${subject}» hakkında ne diyor?`,
  trimmed: (max) => `(Mesajınız uzundu; yalnızca ilk ${max} karakteri kullanıldı.)`,
  askUsage: 'Soruyu komuttan sonra yazın, örneğin: /ask 27 Eylül 2020’de ne oldu?',
  rateLimited: 'İyi cevap verebileceğimden daha hızlı soruyorsunuz. Lütfen bir dakika bekleyip tekrar sorun.',
  tooManyPresses: 'Çok fazla istek, lütfen bir dakika bekleyin.',
  buttonExpired: 'Bu düğmenin süresi doldu. Lütfen soruyu yeniden sorun.',
  noMorePassages: 'Bu soru için başka metin yok.',
  unknownCommand: 'Bu komutu bilmiyorum. /help yazın ya da doğrudan sorunuzu sorun.',
  onlyText: 'Yalnızca metin okuyabiliyorum. Lütfen sorunuzu yazın.',
  adminOnly: 'Üzgünüm, bunu yalnızca botun yöneticileri yapabilir.',
  apology: 'Üzgünüm, cevap verirken bir hata oluştu. Lütfen tekrar deneyin.',
  sourcesHeader: (documents, page, pages) => `Alıntı yaptığım ${counted('tr', documents, tr.documents)}` + (pages > 1 ? ` (sayfa ${page}/${pages}):` : ':'),
  previous: '◀ Önceki',
  next: 'Sonraki ▶',
  reindexAlreadyRunning: 'Yeniden dizinleme zaten sürüyor; ilerlemesi ve sonucu durum mesajında görünüyor.',
  reindexReading: 'Yeniden dizinleme: belgeler okunuyor…',
  reindexRead: (documents, skipped) => `Yeniden dizinleme: ${counted('tr', documents, tr.documents)} okundu (${skipped} atlandı)…`,
  reindexEmbedded: (done, total) => `Yeniden dizinleme: ${done}/${counted('tr', total, tr.passages)} işlendi…`,
  reindexWriting: (passages) => `Yeniden dizinleme: dizin yazılıyor (${counted('tr', passages, tr.passages)})…`,
  reindexWorking: 'Yeniden dizinleme…',
  reindexDone: (seconds, documents, passages) => `Yeniden dizinleme ${seconds} saniyede tamamlandı: ${counted('tr', documents, tr.documents)}, ${counted('tr', passages, tr.passages)}.`,
  reindexUpToDate: (documents, passages) => `Değişiklik yok: dizin güncel (${counted('tr', documents, tr.documents)}, ${counted('tr', passages, tr.passages)}).`,
  reembedded: (files) => `Yeniden işlenen: ${files || 'yok'}`,
  reused: (n) => `Değişmeyen: ${n}`,
  removed: (files) => `Silinen: ${files}`,
  skipped: (file, reason) => `Atlandı ${file}: ${reason}`,
  reindexFailed: (reason) => `Yeniden dizinleme başarısız oldu; önceki dizin hizmet vermeye devam ediyor.\nSebep: ${reason}`,
  consoleCommands: 'Komutlar: /sources, /reindex, /quit.',
  documents: ['belge', 'belge', 'belge'],
  passages: ['metin parçası', 'metin parçası', 'metin parçası'],
};

export const TEXTS: Record<Lang, Texts> = { en, ru, az, tr };

/**
 * The language of a text by its letters: Cyrillic → Russian; Latin with ə → Azerbaijani; Latin with
 * Turkish letters (ı ğ ş ç ö ü İ) and no ə → Turkish; anything else → English.
 */
export function languageOfText(text: string): Lang {
  if (/\p{Script=Cyrillic}/u.test(text)) return 'ru';
  if (/[əƏ]/u.test(text)) return 'az';
  if (/[ıİğĞşŞçÇöÖüÜ]/u.test(text)) return 'tr';
  return 'en';
}

/** A Telegram user's language_code ("ru", "ru-RU", "az", "tr", "en-GB") if it is one of ours. */
export function languageOfCode(code: string | undefined): Lang | undefined {
  const base = code?.toLowerCase().split(/[-_]/)[0];
  return LANGS.find((l) => l === base);
}
