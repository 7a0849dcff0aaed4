/**
 * /help's example question in each language, around its subject: the bot offers them
 * (replies/texts.ts) and the search recognises a copied one (focus.ts), so both read them here.
 */
export const EXAMPLE_QUESTIONS = {
  en: (subject: string) => `What do the documents say about the ${subject}?`,
  ru: (subject: string) => `Что говорится в документах о «${subject}»?`,
  az: (subject: string) => `Sənədlərdə «${subject}» haqqında nə deyilir?`,
  tr: (subject: string) => `Belgeler «${subject}» hakkında ne diyor?`,
};
