/**
 * A file that grows between readDocument's size check and its read (copied into the folder, or
 * appended to, while a build reads it). The growth is made by a hook on the opened file's stat,
 * right after the check: the moment a copy in progress would hit, made deterministic.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { readDocument } from '../src/documents/load.js';
import { DEFAULT_READ_LIMITS } from '../src/documents/readers/types.js';
import { tempDirs } from './support/testModel.js';

const race = vi.hoisted(() => ({ afterStat: undefined as undefined | (() => void) }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const open = (async (...args: Parameters<typeof fs.open>) => {
    const handle = await fs.open(...args);
    const stat = handle.stat.bind(handle);
    handle.stat = (async (...options: []) => {
      const stats = await stat(...options);
      const hook = race.afterStat;
      race.afterStat = undefined;
      hook?.();
      return stats;
    }) as typeof handle.stat;
    return handle;
  }) as typeof fs.open;
  return { ...fs, default: { ...fs, open }, open };
});

const tmp = tempDirs('cite-changed-');

describe('a file that grows after its size was checked', () => {
  it('is never read past DOC_MAX_BYTES: skipped as too large, not read in full', async () => {
    const dir = tmp();
    const file = path.join(dir, 'growing.txt');
    writeFileSync(file, 'Growing log\n\nThe first lines of a log that is still being written.\n');
    race.afterStat = () => appendFileSync(file, 'Another line of the log, appended while it is read.\n'.repeat(40_000));
    const outcome = await readDocument(
      dir,
      { file: 'growing.txt', size: 0, mtimeMs: 0 },
      { ...DEFAULT_READ_LIMITS, maxBytes: 10_000 },
    );
    expect(race.afterStat, 'the file grew').toBeUndefined();
    expect(typeof outcome === 'string' ? outcome : `read, ${outcome.source.length} characters`).toMatch(
      /^too large \(\d+ bytes; the limit DOC_MAX_BYTES is 10000\)$/,
    );
  });
});
