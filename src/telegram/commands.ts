import type { Bot } from 'grammy';
import { log } from '../log.js';
import { LANGS, type Lang } from '../replies/texts.js';

/** The command menu in each language (Telegram shows the one matching the user's app language). */
const COMMAND_DESCRIPTIONS: Record<Lang, Record<'ask' | 'sources' | 'help' | 'start' | 'stats' | 'reindex' | 'remove' | 'allow' | 'revoke', string>> = {
  en: {
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
  ru: {
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
  az: {
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
  tr: {
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
};

export const commandsIn = (lang: Lang) => Object.entries(COMMAND_DESCRIPTIONS[lang]).map(([command, description]) => ({ command, description }));
export const COMMANDS = commandsIn('en');

/**
 * Registers the command menu: English by default, and each of our languages for its users. The
 * menu is cosmetic (commands work without it): a server that refuses it (a Bot API emulator
 * without `setMyCommands`) gets a warning, and the bot goes on.
 */
export async function registerCommands(api: Bot['api']): Promise<void> {
  try {
    await api.setMyCommands(COMMANDS);
    for (const lang of LANGS.filter((l) => l !== 'en')) await api.setMyCommands(commandsIn(lang), { language_code: lang });
  } catch (err) {
    log.warn({ error: (err as Error).message }, 'the command menu could not be registered; commands work without it');
  }
}
