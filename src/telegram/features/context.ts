import { createHmac } from 'node:crypto';
import type { Context, NextFunction } from 'grammy';
import type { Config } from '../../config.js';
import type { DeskStore } from '../../desk/store.js';
import type { Engine } from '../../engine.js';
import type { RecentStore } from '../../replies/recent.js';
import { questionMessage } from '../delivery/updates.js';
import type { Viewer } from '../viewer/server.js';
import type { IndexUpdates } from './indexUpdates.js';
import type { Stats } from './stats.js';

/** What every feature of the bot shares: built once in `createBot`, handed to each composer. */
export interface BotDeps {
  engine: Engine;
  config: Config & { TELEGRAM_BOT_TOKEN: string };
  recent: RecentStore;
  stats: Stats;
  store: DeskStore;
  /** Index updates (/reindex, uploads, /remove), one after another. */
  updates: IndexUpdates;
  /** The document viewer (VIEWER_URL set): "Open in document" buttons link to it. */
  viewer?: Viewer;
}

/**
 * A user's id as stored with feedback: keyed with the bot's token, so the stored value cannot be
 * turned back into the id by trying all ids (it can by whoever holds the token, who sees ids anyway).
 */
export const hashedUser = (id: number, secret: string) =>
  createHmac('sha256', secret).update(String(id)).digest('hex').slice(0, 16);

export const isAdminOf = (config: Config) => {
  const admins = new Set(config.ADMIN_IDS);
  return (ctx: Context): boolean => ctx.from !== undefined && admins.has(ctx.from.id);
};

/**
 * Whether a message is meant for the bot: everything in a private chat; in groups a command
 * (not one addressed to another bot), a mention, or a reply to one of the bot's messages. Never
 * one sent through the bot's inline mode (one of its own answers, shared by the user), nor a
 * channel's post that Telegram copies into the channel's discussion group (nobody asked there).
 */
export function isAddressed(ctx: Context): boolean {
  const message = questionMessage(ctx);
  if (!message || !ctx.chat || message.via_bot?.id === ctx.me.id || message.is_automatic_forward) return false;
  if (ctx.chat.type === 'private') return true;
  const text = message.text ?? message.caption ?? '';
  const me = ctx.me.username.toLowerCase();
  if (message.reply_to_message?.from?.id === ctx.me.id) return true;
  if (mentionOf(me).test(text)) return true;
  const target = commandTarget(text);
  return target === '' || target === me;
}

/**
 * A mention of the bot, any case, as a whole name: "@cite_bot_fan" (another account) is no "@cite_bot".
 * Usernames are letters, digits and "_" only, so the name needs no escaping.
 */
export const mentionOf = (username: string) => new RegExp(`@${username}(?!\\w)`, 'ig');

/** The bot a command names ("/foo@cite_bot" → "cite_bot"), lower-case; '' when it names none; undefined for no command. */
export function commandTarget(text: string): string | undefined {
  const command = /^\/\w+(?:@(\w+))?/.exec(text);
  return command ? (command[1]?.toLowerCase() ?? '') : undefined;
}

/**
 * grammY finds commands in a text's entities only, so "/sources" as a photo's caption was asked as
 * a question. A captioned message lends its caption's entities to the commands (not a file's: its
 * caption goes with the upload).
 */
export function captionCommands(ctx: Context, next: NextFunction): Promise<void> {
  const message = ctx.message;
  if (message?.caption_entities && !message.entities && !message.document) message.entities = message.caption_entities;
  return next();
}
