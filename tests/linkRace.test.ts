/**
 * Links put in place after the check (time of check, time of use): a folder of the documents
 * folder replaced by a link to outside between readDocument's check and its read. The swap is
 * made by a hook on realpathSync, right after the check resolved the file's path: the moment an
 * attacker with write access to the folder would aim for, made deterministic.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { discardLeftovers, moveToTrash } from '../src/desk/files.js';
import { readDocument } from '../src/documents/load.js';
import { DEFAULT_READ_LIMITS } from '../src/documents/readers/types.js';
import { tempDirs } from './support/testModel.js';

const race = vi.hoisted(() => ({ after: undefined as undefined | { file: string; swap: () => void } }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const realpathSync = ((p: string, ...rest: []) => {
    const resolved = fs.realpathSync(p, ...rest);
    const hook = race.after;
    if (hook && String(p).endsWith(hook.file)) {
      race.after = undefined;
      hook.swap();
    }
    return resolved;
  }) as typeof fs.realpathSync;
  realpathSync.native = fs.realpathSync.native;
  return { ...fs, default: { ...fs, realpathSync }, realpathSync };
});

const tmp = tempDirs('cite-link-race-');
const SECRET = 'Outside notes\n\nThe vault combination is 31-41-59 and nobody may quote it.\n';

describe('a link put on the way after the check', () => {
  it('a folder replaced by a link to outside between the check and the read: nothing outside is read', async () => {
    const [dir, outside] = [tmp(), tmp()];
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'sub', 'own.txt'), 'Own document\n\nA document inside the folder, fine to quote.\n');
    writeFileSync(path.join(outside, 'own.txt'), SECRET);
    race.after = {
      file: path.join('sub', 'own.txt'),
      swap: () => {
        renameSync(path.join(dir, 'sub'), path.join(dir, '.sub-moved'));
        symlinkSync(outside, path.join(dir, 'sub'));
      },
    };
    const outcome = await readDocument(dir, { file: 'sub/own.txt', size: 0, mtimeMs: 0 }, DEFAULT_READ_LIMITS);
    expect(race.after, 'the swap was made').toBeUndefined();
    expect(JSON.stringify(outcome)).not.toContain('vault');
    expect(outcome).toBe('a link to outside the documents folder (not read)');
  });
});

describe('a folder replaced by a link after the index listed its file', () => {
  it('/remove of that file (moveToTrash) moves nothing from outside the documents folder', () => {
    const [dir, outside] = [tmp(), tmp()];
    writeFileSync(path.join(outside, 'own.txt'), SECRET);
    symlinkSync(outside, path.join(dir, 'sub')); // was a real folder holding own.txt when the index was built
    expect(() => moveToTrash(dir, 'sub/own.txt')).toThrow();
    expect(existsSync(path.join(outside, 'own.txt'))).toBe(true);
    expect(existsSync(path.join(dir, '.trash'))).toBe(false);
  });
});

describe('the trash or the uploads folder made a link to outside', () => {
  it('/remove does not move a document out of the folder through a .trash that is a link', () => {
    const [dir, outside] = [tmp(), tmp()];
    writeFileSync(path.join(dir, 'own.txt'), 'Own document\n\nA document inside the folder.\n');
    symlinkSync(outside, path.join(dir, '.trash'));
    expect(() => moveToTrash(dir, 'own.txt')).toThrow(/trash/);
    expect(existsSync(path.join(dir, 'own.txt'))).toBe(true);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('clearing old downloads deletes nothing in a folder outside that uploads/ links to', () => {
    const [dir, outside] = [tmp(), tmp()];
    const theirs = path.join(outside, '.incoming-0123456789ab');
    writeFileSync(theirs, 'not ours');
    symlinkSync(outside, path.join(dir, 'uploads'));
    discardLeftovers(dir, 0);
    expect(existsSync(theirs)).toBe(true);
  });
});
