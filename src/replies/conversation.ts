import type { Manifest } from '../index/manifest.js';
import { startOf } from '../text/sentences.js';
import { TEXTS, type Lang } from './texts.js';

/** A keycap emoji: a digit, # or *, then (usually) the emoji selector, then the enclosing keycap. */
const KEYCAP = /[\p{Nd}#*]\uFE0F?\u20E3/gu;

/** What the user typed, made into a question: trimmed to a size the model handles well. */
export function prepareQuestion(text: string, maxChars: number): { question: string; trimmed: boolean } | undefined {
  const clean = text.replace(/\s+/g, ' ').trim();
  // Only emoji, punctuation or symbols: nothing to search for. Keycaps ("1️⃣") and superscripts
  // ("²") hold a digit, but no number anyone searches for.
  if (!/[\p{L}\p{Nd}]/u.test(clean.replace(KEYCAP, ''))) return undefined;
  if (clean.length <= maxChars) return { question: clean, trimmed: false };
  // Not inside a character (an emoji is two UTF-16 units): half of one would go to the search.
  const cut = startOf(clean, maxChars);
  const space = cut.lastIndexOf(' ');
  return { question: space > maxChars / 2 ? cut.slice(0, space) : cut, trimmed: true };
}

export const trimmedNote = (maxChars: number, lang: Lang = 'en') => TEXTS[lang].trimmed(maxChars);

/** Example questions built from the documents themselves (subjects chosen at index time). */
function exampleQuestions(manifest: Manifest, lang: Lang = 'en'): string[] {
  return manifest.examples.map((name) => TEXTS[lang].exampleQuestion(name));
}

/** /help: how many documents the live index holds, and example questions about them. */
export function helpText(manifest: Manifest, lang: Lang = 'en'): string {
  return TEXTS[lang].help(manifest.documents.length, exampleQuestions(manifest, lang));
}
