import type { Lang } from './texts.js';

/**
 * The fixed texts of the document viewer, inline mode and replies to a quote, in the four
 * languages (kept beside the main catalogue, texts.ts, so that the features stay in their own files).
 */
export interface ViewerTexts {
  /** The button under a quote (numbered when there are several). */
  openInDocument: string;
  /** The page's tab for quote `n` of an answer. */
  quote: (n: number) => string;
  /** The document changed after the answer: where the quote is now. */
  changedMoved: string;
  changedSentence: string;
  changedGone: string;
  /** The document is not in the collection any more. */
  missing: string;
  /** The data endpoint refused (missing, forged or expired launch data or link). */
  denied: string;
  /** The index keeps no texts to show (e.g. PostgreSQL). */
  noTexts: string;
  /** The page while the document loads, and when it cannot be reached (the connection dropped). */
  loading: string;
  unreachable: string;
  /** Reply to a quote: the whole paragraph's header, and the other documents' section. */
  wholeParagraph: (title: string, where: string, file: string) => string;
  otherDocuments: string;
  noOtherDocuments: string;
  /** Inline mode: the one result for a question the documents do not cover. */
  inlineNotCovered: string;
  /** Inline mode: the rate limit was reached (shown as the button above the results, ≤ 64 characters). */
  inlineRateLimited: string;
  /** Inline mode: the query could not be answered (the button above no results, ≤ 64 characters). */
  inlineFailed: string;
}

export const VIEWER_TEXTS: Record<Lang, ViewerTexts> = {
  en: {
    openInDocument: 'Open in document',
    quote: (n) => `Quote ${n}`,
    changedMoved: 'The document has changed since this answer. The quote is still in it: it is marked where it is now.',
    changedSentence:
      'The document has changed since this answer. Only the marked sentence is still in it, shown where it is now.',
    changedGone: 'The document has changed since this answer, and the quoted text is no longer in it.',
    missing: 'This document is no longer in the collection.',
    denied: 'This link is not valid (or has expired). Open the document again from the bot’s answer.',
    noTexts: 'The documents’ texts are not available here.',
    loading: 'Loading…',
    unreachable: 'The document could not be loaded: check the connection and try again.',
    wholeParagraph: (title, where, file) => `The whole paragraph. According to ${title}, ${where} (${file}):`,
    otherDocuments: 'Other documents on this:',
    noOtherDocuments: 'No other document says anything close to this.',
    inlineNotCovered: 'The documents do not cover this',
    inlineRateLimited: 'Too many questions: try again in a minute',
    inlineFailed: 'Something went wrong: please try again',
  },
  ru: {
    openInDocument: 'Открыть в документе',
    quote: (n) => `Цитата ${n}`,
    changedMoved:
      'Документ изменился после этого ответа. Цитата в нём осталась: она отмечена там, где находится теперь.',
    changedSentence:
      'Документ изменился после этого ответа. В нём осталось только выделенное предложение, оно показано там, где находится теперь.',
    changedGone: 'Документ изменился после этого ответа, и процитированного текста в нём больше нет.',
    missing: 'Этого документа больше нет в собрании.',
    denied: 'Ссылка недействительна (или устарела). Откройте документ снова из ответа бота.',
    noTexts: 'Тексты документов здесь недоступны.',
    loading: 'Загрузка…',
    unreachable: 'Не удалось загрузить документ: проверьте соединение и попробуйте ещё раз.',
    wholeParagraph: (title, where, file) => `Абзац целиком. Согласно документу ${title}, ${where} (${file}):`,
    otherDocuments: 'Другие документы об этом:',
    noOtherDocuments: 'Ни в одном другом документе нет ничего близкого к этому.',
    inlineNotCovered: 'В документах об этом ничего нет',
    inlineRateLimited: 'Слишком много вопросов: попробуйте через минуту',
    inlineFailed: 'Что-то пошло не так: попробуйте ещё раз',
  },
  az: {
    openInDocument: 'Sənəddə aç',
    quote: (n) => `Sitat ${n}`,
    changedMoved: 'Bu cavabdan sonra sənəd dəyişib. Sitat hələ də oradadır: indiki yerində işarələnib.',
    changedSentence:
      'Bu cavabdan sonra sənəd dəyişib. Orada yalnız işarələnmiş cümlə qalıb, indiki yerində göstərilir.',
    changedGone: 'Bu cavabdan sonra sənəd dəyişib və sitat gətirilən mətn artıq orada yoxdur.',
    missing: 'Bu sənəd artıq kolleksiyada yoxdur.',
    denied: 'Bu keçid etibarsızdır (və ya vaxtı keçib). Sənədi botun cavabından yenidən açın.',
    noTexts: 'Sənədlərin mətnləri burada əlçatan deyil.',
    loading: 'Yüklənir…',
    unreachable: 'Sənədi yükləmək mümkün olmadı: bağlantını yoxlayın və yenidən cəhd edin.',
    wholeParagraph: (title, where, file) => `Bütün abzas. ${title} sənədinə görə, ${where} (${file}):`,
    otherDocuments: 'Bu barədə digər sənədlər:',
    noOtherDocuments: 'Heç bir başqa sənəddə buna yaxın bir şey yoxdur.',
    inlineNotCovered: 'Sənədlərdə bu barədə məlumat yoxdur',
    inlineRateLimited: 'Həddən çox sual: bir dəqiqədən sonra yenidən cəhd edin',
    inlineFailed: 'Nəsə alınmadı: yenidən cəhd edin',
  },
  tr: {
    openInDocument: 'Belgede aç',
    quote: (n) => `Alıntı ${n}`,
    changedMoved: 'Bu yanıttan sonra belge değişti. Alıntı hâlâ belgede: şimdiki yerinde işaretlendi.',
    changedSentence:
      'Bu yanıttan sonra belge değişti. Belgede yalnızca işaretli cümle kaldı, şimdiki yerinde gösteriliyor.',
    changedGone: 'Bu yanıttan sonra belge değişti ve alıntılanan metin artık belgede yok.',
    missing: 'Bu belge artık koleksiyonda değil.',
    denied: 'Bu bağlantı geçersiz (ya da süresi dolmuş). Belgeyi botun yanıtından yeniden açın.',
    noTexts: 'Belgelerin metinleri burada kullanılamıyor.',
    loading: 'Yükleniyor…',
    unreachable: 'Belge yüklenemedi: bağlantıyı kontrol edip tekrar deneyin.',
    wholeParagraph: (title, where, file) => `Paragrafın tamamı. ${title} belgesine göre, ${where} (${file}):`,
    otherDocuments: 'Bu konuda diğer belgeler:',
    noOtherDocuments: 'Başka hiçbir belgede buna yakın bir şey yok.',
    inlineNotCovered: 'Belgeler bu konuyu kapsamıyor',
    inlineRateLimited: 'Çok fazla soru: bir dakika sonra yeniden deneyin',
    inlineFailed: 'Bir şeyler ters gitti: yeniden deneyin',
  },
};
