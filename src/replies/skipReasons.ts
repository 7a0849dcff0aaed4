import type { DocumentFormat } from '../documents/formats.js';
import { fill, FORMAT_LABELS, SKIP_REASONS, type SkipCause } from '../documents/skips.js';
import type { Lang } from './texts.js';

type Reasons = Record<SkipCause, string>;

const RU: Reasons = {
  unreadable: 'не читается ({detail})',
  nameNotUtf8: 'имя файла не в UTF-8 (переименуйте его)',
  linkToNothing: 'ссылка в никуда',
  vanished: 'исчез',
  linkOutside: 'ссылка за пределы папки документов (не прочитан)',
  notRegularFile: 'не обычный файл',
  tooLarge: 'слишком большой ({size} байт; предел DOC_MAX_BYTES — {limit})',
  tooSlow: 'читался дольше {seconds} с (предел DOC_READ_SECONDS)',
  tooMuchMemory: 'для чтения нужно больше {mb} МБ памяти (предел DOC_READ_MEMORY_MB)',
  readerFailed: 'сбой при чтении ({detail})',
  unsupported: 'неподдерживаемый формат ({extensions})',
  empty: 'пустой файл',
  encryptedWord: 'зашифрован (защищён паролем) или старый двоичный файл Word (сохраните его как незащищённый .docx)',
  notDocxContainer: 'не документ Word (назван .docx, но содержимое — не контейнер .docx)',
  binary: 'двоичный файл, не документ (содержит байты NUL)',
  misnamed: 'назван .{ext}, но по содержимому это {format}',
  undecodable: 'не текст (байты не декодируются)',
  onlySpaces: 'нет текста (только пробелы или знаки препинания)',
  onlyBoilerplate: 'после удаления служебных строк страницы текста не осталось',
  onlyTitle: 'только заголовок («{title}»), текста нет',
  noText: 'нет текста',
  tooMuchText: 'слишком много текста (больше {limit} символов, предел DOC_MAX_TEXT_CHARS)',
  noWordXml: 'не документ Word (в контейнере нет word/document.xml)',
  damagedWord: 'повреждённый документ Word ({detail})',
  noArticle: 'веб-страница без статьи (только навигация или скрипты?)',
  scannedPdf: 'PDF без текстового слоя (скан? нужно распознавание текста)',
  encryptedPdf: 'зашифрованный PDF (защищён паролем)',
  damagedPdf: 'повреждённый PDF ({detail})',
  unpacksTooMuch: 'распаковывается в {size} (больше предела DOC_MAX_UNPACKED_BYTES в {limit}: zip-бомба?)',
  zipNoDirectory: 'повреждённый zip-контейнер (нет центрального каталога)',
  zipBadDirectory: 'повреждённый zip-контейнер (неверная запись каталога)',
  zipBadEntry: 'повреждённый zip-контейнер (запись {entry})',
  zipMethod: 'неподдерживаемое сжатие zip (метод {method}) в {entry}',
  zipLies: 'распаковывается в больше, чем заявлено ({entry}: zip-бомба?)',
  zipDamaged: 'повреждённый zip-контейнер ({entry}: {detail})',
};

const AZ: Reasons = {
  unreadable: 'oxunmur ({detail})',
  nameNotUtf8: 'adı düzgün UTF-8 deyil (adını dəyişin)',
  linkToNothing: 'heç nəyə aparmayan keçid',
  vanished: 'yoxa çıxıb',
  linkOutside: 'sənədlər qovluğundan kənara keçid (oxunmadı)',
  notRegularFile: 'adi fayl deyil',
  tooLarge: 'çox böyükdür ({size} bayt; DOC_MAX_BYTES həddi {limit})',
  tooSlow: 'oxunması {seconds} saniyədən çox çəkdi (DOC_READ_SECONDS həddi)',
  tooMuchMemory: 'oxumaq üçün {mb} MB-dan çox yaddaş lazımdır (DOC_READ_MEMORY_MB həddi)',
  readerFailed: 'oxuyucu xəta verdi ({detail})',
  unsupported: 'dəstəklənməyən sənəd ({extensions})',
  empty: 'boş fayl',
  encryptedWord: 'şifrələnib (parolla qorunur) və ya köhnə ikili Word faylıdır (onu qorunmayan .docx kimi saxlayın)',
  notDocxContainer: 'Word sənədi deyil (adı .docx-dir, amma məzmunu .docx konteyneri deyil)',
  binary: 'ikili fayldır, sənəd deyil (NUL baytları var)',
  misnamed: 'adı .{ext}-dir, amma məzmunu {format}',
  undecodable: 'düzgün mətn deyil (baytlar deşifrə olunmur)',
  onlySpaces: 'mətn yoxdur (yalnız boşluqlar və ya durğu işarələri)',
  onlyBoilerplate: 'səhifənin xidməti sətirləri silindikdən sonra mətn qalmadı',
  onlyTitle: 'yalnız başlıq («{title}»), mətn yoxdur',
  noText: 'mətn yoxdur',
  tooMuchText: 'mətn çoxdur ({limit} simvoldan artıq, DOC_MAX_TEXT_CHARS həddi)',
  noWordXml: 'Word sənədi deyil (konteynerdə word/document.xml yoxdur)',
  damagedWord: 'zədələnmiş Word sənədi ({detail})',
  noArticle: 'məqaləsiz veb səhifə (yalnız naviqasiya və ya skriptlər?)',
  scannedPdf: 'mətn qatı olmayan PDF (skan edilmiş sənəd? mətn tanınması lazımdır)',
  encryptedPdf: 'şifrələnmiş PDF (parolla qorunur)',
  damagedPdf: 'zədələnmiş PDF ({detail})',
  unpacksTooMuch: 'açıldıqda {size} olur ({limit} DOC_MAX_UNPACKED_BYTES həddindən çox: zip bombası?)',
  zipNoDirectory: 'zədələnmiş zip konteyneri (mərkəzi kataloq yoxdur)',
  zipBadDirectory: 'zədələnmiş zip konteyneri (səhv kataloq yazısı)',
  zipBadEntry: 'zədələnmiş zip konteyneri ({entry} yazısı)',
  zipMethod: 'dəstəklənməyən zip sıxılması ({method} metodu), {entry}',
  zipLies: 'açıldıqda bildirdiyindən çox olur ({entry}: zip bombası?)',
  zipDamaged: 'zədələnmiş zip konteyneri ({entry}: {detail})',
};

const TR: Reasons = {
  unreadable: 'okunamıyor ({detail})',
  nameNotUtf8: 'adı geçerli UTF-8 değil (yeniden adlandırın)',
  linkToNothing: 'hiçbir yere gitmeyen bağlantı',
  vanished: 'kayboldu',
  linkOutside: 'belgeler klasörünün dışına bağlantı (okunmadı)',
  notRegularFile: 'normal bir dosya değil',
  tooLarge: 'çok büyük ({size} bayt; DOC_MAX_BYTES sınırı {limit})',
  tooSlow: 'okunması {seconds} saniyeden uzun sürdü (DOC_READ_SECONDS sınırı)',
  tooMuchMemory: 'okumak için {mb} MB’tan fazla bellek gerekiyor (DOC_READ_MEMORY_MB sınırı)',
  readerFailed: 'okuyucu hata verdi ({detail})',
  unsupported: 'desteklenmeyen belge ({extensions})',
  empty: 'boş dosya',
  encryptedWord: 'şifreli (parola korumalı) ya da eski ikili Word dosyası (korumasız bir .docx olarak kaydedin)',
  notDocxContainer: 'Word belgesi değil (adı .docx, ama içeriği bir .docx kapsayıcısı değil)',
  binary: 'ikili dosya, belge değil (NUL baytları içeriyor)',
  misnamed: 'adı .{ext}, ama içeriği {format}',
  undecodable: 'geçerli metin değil (baytlar çözülemiyor)',
  onlySpaces: 'metin yok (yalnızca boşluklar ya da noktalama işaretleri)',
  onlyBoilerplate: 'sayfa kalıp satırları çıkarıldıktan sonra metin kalmadı',
  onlyTitle: 'yalnızca başlık («{title}»), gövde metni yok',
  noText: 'metin yok',
  tooMuchText: 'çok fazla metin ({limit} karakterden fazla, DOC_MAX_TEXT_CHARS sınırı)',
  noWordXml: 'Word belgesi değil (kapsayıcıda word/document.xml yok)',
  damagedWord: 'hasarlı Word belgesi ({detail})',
  noArticle: 'makalesi olmayan web sayfası (yalnızca gezinme ya da betikler?)',
  scannedPdf: 'metin katmanı olmayan PDF (taranmış bir belge mi? metin tanıma gerekir)',
  encryptedPdf: 'şifreli PDF (parola korumalı)',
  damagedPdf: 'hasarlı PDF ({detail})',
  unpacksTooMuch: 'açıldığında {size} oluyor ({limit} DOC_MAX_UNPACKED_BYTES sınırının üzerinde: zip bombası mı?)',
  zipNoDirectory: 'hasarlı zip kapsayıcısı (merkezi dizin yok)',
  zipBadDirectory: 'hasarlı zip kapsayıcısı (bozuk dizin kaydı)',
  zipBadEntry: 'hasarlı zip kapsayıcısı ({entry} kaydı)',
  zipMethod: 'desteklenmeyen zip sıkıştırması ({method} yöntemi), {entry} içinde',
  zipLies: 'açıldığında bildirdiğinden fazla oluyor ({entry}: zip bombası mı?)',
  zipDamaged: 'hasarlı zip kapsayıcısı ({entry}: {detail})',
};

const FORMATS: Record<Exclude<Lang, 'en'>, Record<DocumentFormat, string>> = {
  ru: {
    pdf: 'PDF',
    docx: 'документ Word',
    odt: 'текст OpenDocument',
    epub: 'книга EPUB',
    rtf: 'документ RTF',
    html: 'веб-страница',
    markdown: 'Markdown',
    text: 'простой текст',
  },
  az: {
    pdf: 'PDF-dir',
    docx: 'Word sənədidir',
    odt: 'OpenDocument mətnidir',
    epub: 'EPUB kitabıdır',
    rtf: 'RTF sənədidir',
    html: 'veb səhifədir',
    markdown: 'Markdown-dır',
    text: 'sadə mətndir',
  },
  tr: {
    pdf: 'bir PDF',
    docx: 'bir Word belgesi',
    odt: 'bir OpenDocument metni',
    epub: 'bir EPUB kitabı',
    rtf: 'bir RTF belgesi',
    html: 'bir web sayfası',
    markdown: 'Markdown',
    text: 'düz metin',
  },
};

const REASONS: Record<Exclude<Lang, 'en'>, Reasons> = { ru: RU, az: AZ, tr: TR };

/**
 * Each English template as a pattern that takes its values back out: a placeholder matches any
 * text. Templates without placeholders come first, so a fixed wording wins over one with a value
 * that could also hold it ("damaged zip container (no central directory)" over "…({entry}: {detail})").
 */
const PATTERNS = (Object.entries(SKIP_REASONS) as [SkipCause, string][])
  .map(([cause, template]) => ({ cause, names: [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!), template }))
  .sort((a, b) => a.names.length - b.names.length)
  .map(({ cause, names, template }) => ({ cause, names, pattern: patternOf(template) }));

function patternOf(template: string): RegExp {
  const parts = template.split(/\{\w+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('(.+?)')}$`, 's');
}

const FORMAT_OF_LABEL = new Map(
  Object.entries(FORMAT_LABELS).map(([format, label]) => [label, format as DocumentFormat]),
);

/**
 * Why a file is not read, in `lang`: the indexer's English reason matched to its cause and worded
 * again. Values that come from outside (a library's error message, a file name) stay as they are;
 * a reason no template makes (written by an older version) is shown as it is.
 */
export function skipReasonIn(lang: Lang, reason: string): string {
  if (lang === 'en') return reason;
  for (const { cause, names, pattern } of PATTERNS) {
    const match = pattern.exec(reason);
    if (!match) continue;
    const values = Object.fromEntries(names.map((name, i) => [name, valueIn(lang, name, match[i + 1]!)]));
    return fill(REASONS[lang][cause], values);
  }
  return reason;
}

function valueIn(lang: Exclude<Lang, 'en'>, name: string, value: string): string {
  const format = name === 'format' ? FORMAT_OF_LABEL.get(value) : undefined;
  return format ? FORMATS[lang][format] : value;
}
