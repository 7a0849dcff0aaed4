/**
 * Listing the documents folder when a subfolder of it cannot be listed: the kernel refuses it
 * (no permission for the bot's user, a broken mount), which costs that folder's files, never the
 * build; and names that are not UTF-8 (unpacked from an old archive), which cannot be looked up as text. Tests run as root, whom the kernel lets read anything: the refusal is made by a hook on
 * readdirSync, which refuses a folder, and a recursive listing over it, as the kernel does (EACCES).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { listDocumentFiles } from '../src/documents/load.js';
import { planChanges } from '../src/index/changes.js';
import { DEFAULT_READ_LIMITS } from '../src/documents/readers/types.js';
import { loadDocuments } from './support/loadDocuments.js';
import { tempDirs } from './support/testModel.js';

const denied = vi.hoisted(() => new Set<string>());
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const { resolve, sep } = await import('node:path');
  const readdirSync = ((p: string, options?: { recursive?: boolean }) => {
    const full = resolve(String(p));
    for (const folder of denied) {
      if (full === folder || (options?.recursive && folder.startsWith(full + sep))) {
        throw Object.assign(new Error(`EACCES: permission denied, scandir '${folder}'`), {
          code: 'EACCES',
          syscall: 'scandir',
          path: folder,
        });
      }
    }
    return fs.readdirSync(p, options as never);
  }) as typeof fs.readdirSync;
  return { ...fs, default: { ...fs, readdirSync }, readdirSync };
});

const tmp = tempDirs('cite-listing-');
const NOTE = 'Harbour notes\n\nThe harbour master rings the bell twice when the tide turns.\n';

describe('a subfolder that cannot be listed', () => {
  it('costs its own files only: listed as skipped with the reason, the other documents are read', async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'locked'));
    mkdirSync(path.join(dir, 'open'));
    writeFileSync(path.join(dir, 'note.txt'), NOTE);
    writeFileSync(path.join(dir, 'locked', 'hidden.txt'), NOTE);
    writeFileSync(path.join(dir, 'open', 'more.txt'), NOTE);
    denied.add(path.join(dir, 'locked'));
    expect(listDocumentFiles(dir).map((f) => [f.file, f.unusable ?? false])).toEqual([
      ['locked', true],
      ['note.txt', false],
      ['open/more.txt', false],
    ]);
    const { documents, skipped } = await loadDocuments(dir);
    expect(documents.map((d) => d.file)).toEqual(['note.txt', 'open/more.txt']);
    expect(skipped).toEqual([{ file: 'locked', reason: 'unreadable (EACCES)' }]);
    const plan = await planChanges(dir, DEFAULT_READ_LIMITS);
    expect(plan.fresh.map((d) => d.file)).toEqual(['note.txt', 'open/more.txt']);
    expect(plan.skipped.map((s) => [s.file, s.reason])).toEqual([['locked', 'unreadable (EACCES)']]);
  });

  it('one inside a hidden folder (.git, .trash) is not even looked into', () => {
    const dir = tmp();
    mkdirSync(path.join(dir, '.git', 'objects'), { recursive: true });
    writeFileSync(path.join(dir, 'note.txt'), NOTE);
    denied.add(path.join(dir, '.git', 'objects'));
    expect(listDocumentFiles(dir).map((f) => f.file)).toEqual(['note.txt']);
  });

  it('the documents folder itself still fails the listing, with its path as shown (not absolute)', () => {
    const dir = tmp();
    denied.add(dir);
    expect(() => listDocumentFiles(dir)).toThrow(`Cannot read the documents folder "${path.basename(dir)}": EACCES`);
  });
});

describe('a name that is not UTF-8 (Latin-1 from an old zip: "r\\xe9sum\\xe9.txt")', () => {
  /** The path in Latin-1 bytes (the temporary folder's own path is ASCII). */
  const latin1 = (dir: string, ...parts: string[]) => Buffer.from(path.join(dir, ...parts), 'latin1');

  it('of a file or a folder: listed as skipped with the reason, not silently left out', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'note.txt'), NOTE);
    writeFileSync(latin1(dir, 'résumé.txt'), NOTE);
    mkdirSync(latin1(dir, 'café'));
    writeFileSync(latin1(dir, 'café', 'menu.txt'), NOTE);
    const reason = 'its name is not valid UTF-8 (rename it)';
    expect(listDocumentFiles(dir).map((f) => [f.file, f.reason])).toEqual([
      ['caf\uFFFD', reason],
      ['note.txt', undefined],
      ['r\uFFFDsum\uFFFD.txt', reason],
    ]);
    const { documents, skipped } = await loadDocuments(dir);
    expect(documents.map((d) => d.file)).toEqual(['note.txt']);
    expect(skipped).toEqual([
      { file: 'caf\uFFFD', reason },
      { file: 'r\uFFFDsum\uFFFD.txt', reason },
    ]);
  });
});
