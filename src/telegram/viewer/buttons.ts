import type { InlineKeyboard } from 'grammy';
import type { Lang } from '../../replies/texts.js';
import { VIEWER_TEXTS } from '../../replies/viewerTexts.js';
import type { Hit } from '../../retrieval/search.js';
import { encodeRefs, quoteRef } from './links.js';
import type { Viewer } from './server.js';

/** Where the quotes are shown: a private chat opens the Mini App (initData); elsewhere a signed link. */
export interface Audience {
  user: number;
  /** The group's id; undefined for a private chat. */
  group?: number;
  /** An inline message: sent to a chat the bot does not know (a signed link, no chat in it). */
  inline?: boolean;
}

/** The viewer's link for each hit (the quotes of one reply, so the page can switch between them), or none without texts. */
export function viewerLinks(viewer: Viewer | undefined, hits: Hit[], audience: Audience, lang: Lang): string[] {
  if (!viewer || hits.length === 0 || !viewer.texts.available) return [];
  const hashes = hits.map((h) => viewer.texts.hashOf(h.doc));
  if (hashes.some((h) => h === undefined)) return [];
  const v = encodeRefs(hits.map((h, i) => quoteRef(h, hashes[i]!)));
  const signed = audience.inline || audience.group !== undefined;
  return hits.map((_, i) =>
    viewer.link(
      v,
      i,
      lang,
      signed ? { user: audience.user, ...(audience.group !== undefined ? { chat: audience.group } : {}) } : undefined,
    ),
  );
}

/** "Open in document" buttons (numbered when several) on a new row of `keyboard`. */
export function addViewerButtons(
  keyboard: InlineKeyboard,
  viewer: Viewer | undefined,
  hits: Hit[],
  audience: Audience,
  lang: Lang,
  first = 1,
): InlineKeyboard {
  const links = viewerLinks(viewer, hits, audience, lang);
  if (links.length === 0) return keyboard;
  const label = VIEWER_TEXTS[lang].openInDocument;
  keyboard.row();
  links.forEach((url, i) => {
    // The number first: a narrow screen cuts a long label at its end.
    const text = links.length > 1 ? `${first + i}. 📄 ${label}` : `📄 ${label}`;
    if (audience.group === undefined && !audience.inline) keyboard.webApp(text, url);
    else keyboard.url(text, url);
  });
  return keyboard;
}

/** The audience of a message in a chat. */
export const audienceOf = (chat: { id: number; type: string }, user: number): Audience =>
  chat.type === 'private' ? { user } : { user, group: chat.id };
