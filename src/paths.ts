import path from 'node:path';

/**
 * A folder or file as messages show it: relative to the working directory when inside it
 * (`seeds`, `index/build-…`), else only its last name. Replies and logs never carry the server's
 * absolute paths (they tell an outsider how the machine is laid out).
 */
export function shownPath(p: string): string {
  const full = path.resolve(p);
  const relative = path.relative(process.cwd(), full);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : path.basename(full);
}

/** An error's message with the absolute paths Node puts in it (`open '/srv/…/x'`) shown as above. */
export function messageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/(['"])(\/[^'"]*)\1/g, (_, quote: string, p: string) => quote + shownPath(p) + quote);
}

/** An error's system code ("ENOSPC"), or else its message: what a log line or a skip reason says of a failed file operation. */
export const codeOf = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/** Whether a real path is `root` or inside it (both real: links resolved). */
export const isInside = (root: string, real: string) => real === root || real.startsWith(root + path.sep);
