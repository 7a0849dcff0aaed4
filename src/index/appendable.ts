import { createHash, type Hash } from 'node:crypto';
import { appendFileSync, copyFileSync, createReadStream } from 'node:fs';

/*
 * vectors.f32 only grows between compactions: an update's file is the previous one with the new
 * rows after it. Its sha256 is continued from the previous file's hash state rather than computed
 * again over every byte (at 100,000 passages 150 MB read and hashed for a 150 kB change). A state
 * is known by the digest of the content it hashed: a file vouched for by that checksum (its seal,
 * see seals.ts) holds exactly that content, so the state continues it. States are kept in memory
 * (the build worker's, between builds; `rememberHash` fills them ahead); without one the previous
 * file is hashed once, as before.
 */
const states = new Map<string, Hash>();
/** A state is ~100 bytes: a few files' (the vectors of the last builds). */
const KEPT = 4;

function remember(digest: string, state: Hash): void {
  states.delete(digest);
  states.set(digest, state);
  while (states.size > KEPT) states.delete(states.keys().next().value!);
}

/** sha256 of a file, its hash state kept for an appended copy. */
export async function rememberHash(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(piece as Buffer);
  const state = hash.copy();
  const digest = hash.digest('hex');
  remember(digest, state);
  return digest;
}

/** sha256 of bytes about to be written, the state kept for an appended copy of the file. */
export function rememberHashOf(data: Uint8Array): string {
  const hash = createHash('sha256').update(data);
  const state = hash.copy();
  const digest = hash.digest('hex');
  remember(digest, state);
  return digest;
}

/** Whether the hash state of content with this sha256 is known (an appended copy then needs no hashing of it). */
export const knowsHash = (sha256: string) => states.has(sha256);

/**
 * Writes `to` as a copy of `from` (whose content has the sha256 `fromSha256`, checked by the
 * caller) with `tail` after it, and returns the copy's sha256. undefined when `from`'s hash state
 * is not known: the caller writes the file itself.
 */
export function appendedCopy(from: string, fromSha256: string, tail: Uint8Array, to: string): string | undefined {
  const state = states.get(fromSha256);
  if (!state) return undefined;
  copyFileSync(from, to); // in the kernel: the bytes never pass through this process
  appendFileSync(to, tail);
  const hash = state.copy().update(tail);
  const next = hash.copy();
  const digest = hash.digest('hex');
  remember(digest, next);
  return digest;
}
