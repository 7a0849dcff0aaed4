import { type CommandContext, Composer, type Context, type MiddlewareFn } from 'grammy';
import type { DeskStore } from '../../desk/store.js';
import { log } from '../../log.js';
import { TEXTS } from '../../replies/texts.js';
import { questionMessage } from '../delivery/updates.js';
import { langOf } from '../ui/messages.js';
import { isAddressed, isAdminOf, type BotDeps } from './context.js';

/** A user who may not ask is told so at most once in this time. */
const TOLD_EVERY_MS = 60 * 60_000;

/**
 * Who may ask. Everyone, unless ALLOWED_USERS or ALLOWED_CHATS is set; admins always; an admin's
 * /allow or /revoke (persisted in the desk store) overrides the settings. Goes before everything
 * else: a user who may not ask costs nothing beyond one polite line an hour.
 */
export function access({ config, store }: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.use(askGate(askPolicy({ config, store })));
  const only = composer.filter(isAdminOf(config));
  only.command('allow', (ctx) => changeAccess(ctx, store, true));
  only.command('revoke', (ctx) => changeAccess(ctx, store, false));
  return composer;
}

/** Lets through who may ask (and group chatter, which the features ignore); tells anyone else, at most once an hour. */
function askGate(policy: ReturnType<typeof askPolicy>): MiddlewareFn<Context> {
  const told = new Map<number, number>();
  return async (ctx, next) => {
    const from = ctx.from;
    // No sender (a channel post; Telegram names a stand-in user for anonymous admins): nobody to answer.
    if (!from)
      return log.debug({ update: ctx.update.update_id, chat: ctx.chat?.id }, 'update without a sender ignored');
    // Group chatter not meant for the bot is let through: the features ignore it anyway.
    if (questionMessage(ctx) && !isAddressed(ctx)) return next();
    if (await policy(from.id, ctx.chat?.id)) return next();
    const text = TEXTS[langOf(ctx)].desk.notAllowed(from.id);
    if (ctx.callbackQuery) return ctx.answerCallbackQuery({ text, show_alert: true });
    // Inline mode (`@bot question` in any chat): no results, nothing said in a chat that is not the bot's.
    if (ctx.inlineQuery) return ctx.answerInlineQuery([], { cache_time: 0, is_personal: true });
    // Sent on behalf of a chat (an anonymous admin, a linked channel): `from` is Telegram's stand-in, no id to give.
    if (questionMessage(ctx)?.sender_chat) return;
    const now = Date.now();
    if (now - (told.get(from.id) ?? -Infinity) < TOLD_EVERY_MS) return;
    if (told.size > 10_000) told.clear(); // bounded; at worst someone is told once more
    told.set(from.id, now);
    log.info({ user: ctx.from?.id, chat: ctx.chat?.id }, 'not allowed to ask');
    await ctx.reply(text);
  };
}

/** An admin's /allow or /revoke of a user (an id, or the sender of the message replied to), stored before it is said. */
async function changeAccess(ctx: CommandContext<Context>, store: DeskStore, allowed: boolean) {
  const t = TEXTS[langOf(ctx)].desk;
  const target = /^\s*(\d{1,15})\s*$/.exec(ctx.match)?.[1] ?? ctx.message?.reply_to_message?.from?.id;
  const id = Number(target);
  if (!target || !Number.isSafeInteger(id) || id === ctx.me.id) return ctx.reply(t.accessUsage);
  try {
    await store.setAccess(id, allowed);
  } catch (err) {
    // Not stored, so not in effect either (the store promises that): the admin hears which.
    log.error({ err, admin: ctx.from?.id, user: id, allowed }, 'access change not saved');
    return ctx.reply(t.decisionNotSaved);
  }
  log.info({ admin: ctx.from?.id, user: id, allowed }, 'access changed');
  return ctx.reply(allowed ? t.accessAllowed(id) : t.accessRevoked(id));
}

/**
 * Whether a user (in a chat, if any) may ask: admins always; else an admin's stored /allow or
 * /revoke; else everyone unless ALLOWED_USERS or ALLOWED_CHATS is set. Shared by the bot and the
 * document viewer (which has a user, and a chat only for group links).
 */
export function askPolicy({
  config,
  store,
}: Pick<BotDeps, 'config' | 'store'>): (user: number, chat?: number) => Promise<boolean> {
  const admins = new Set(config.ADMIN_IDS);
  const users = new Set(config.ALLOWED_USERS);
  const chats = new Set(config.ALLOWED_CHATS);
  const restricted = users.size > 0 || chats.size > 0;
  return async (user, chat) => {
    if (admins.has(user)) return true;
    const decision = await store.accessOf(user);
    if (decision !== undefined) return decision;
    return !restricted || users.has(user) || (chat !== undefined && chats.has(chat));
  };
}
