import type { Bot } from 'grammy';
import { log } from '../../log.js';
import { LANGS, TEXTS, type Lang } from '../../replies/texts.js';

/** The command menu in a language (Telegram shows the one matching the user's app language). */
const commandsIn = (lang: Lang) =>
  Object.entries(TEXTS[lang].commandMenu).map(([command, description]) => ({ command, description }));
export const COMMANDS = commandsIn('en');

/**
 * Registers the command menu: English by default, and each of our languages for its users. The
 * menu is cosmetic (commands work without it): a server that refuses it (a Bot API emulator
 * without `setMyCommands`) gets a warning, and the bot goes on.
 */
export async function registerCommands(api: Bot['api']): Promise<void> {
  try {
    await api.setMyCommands(COMMANDS);
    for (const lang of LANGS.filter((l) => l !== 'en'))
      await api.setMyCommands(commandsIn(lang), { language_code: lang });
  } catch (err) {
    log.warn({ error: (err as Error).message }, 'the command menu could not be registered; commands work without it');
  }
}
