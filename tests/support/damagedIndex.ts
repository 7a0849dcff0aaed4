import { expect, vi } from 'vitest';
import { Engine } from '../../src/engine.js';
import { IndexError } from '../../src/index/layout.js';
import { loadIndex } from '../../src/index/loader.js';
import { log } from '../../src/log.js';
import type { Config } from '../../src/config.js';

const QUESTION = 'How many Azerbaijanis were expelled in 1948-1953?';

/** The IndexError that reading the index in `dir` raises (fails the test if it reads fine). */
export async function indexErrorOf(dir: string): Promise<IndexError> {
  try {
    await loadIndex(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(IndexError);
    return err as IndexError;
  }
  throw new Error(`loadIndex(${dir}) did not throw`);
}

/** Engine.open on a damaged index: one warning, a rebuild, and a real answer from the seeds. */
export async function expectRebuildAndAnswer(config: Config): Promise<void> {
  const warn = vi.spyOn(log, 'warn').mockImplementation(() => undefined);
  const engine = await Engine.open(config);
  expect(warn).toHaveBeenCalledTimes(1);
  expect(String(warn.mock.calls[0]![0])).toContain('Building the index now');
  const answer = await engine.ask(QUESTION);
  expect(answer.answered).toBe(true);
  expect(answer.hits[0]!.doc.startsWith('000')).toBe(true);
}
