/**
 * The shared bot state's tidy-ups in PostgreSQL (old recent answers, rate windows, webhook claims)
 * run after a write that succeeded: a tidy-up that fails must not fail that write.
 */
import { describe, expect, it, vi } from 'vitest';
import { PgCounters, PgRecentAnswers } from '../src/db/botState.js';
import type { Db } from '../src/db/pool.js';
import { PgUpdateClaims } from '../src/db/updateClaims.js';
import { log } from '../src/log.js';
import type { Answer } from '../src/retrieval/search.js';

/** A database whose writes succeed and whose DELETEs fail (a lock timeout, say). */
function deletesFail() {
  const query = vi.fn(async (sql: string) => {
    if (/^\s*DELETE/i.test(sql)) throw new Error('canceling statement due to lock timeout');
    return { rows: [{ hits: 1, done: false }], rowCount: 1 };
  });
  return {
    db: { query } as unknown as Db,
    deletes: () => query.mock.calls.filter(([sql]) => /^\s*DELETE/i.test(sql)).length,
  };
}

describe('a tidy-up that fails after a write', () => {
  it('leaves the write done: the answer is stored, the hit counted, the update claimed; one warning each', async () => {
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => undefined);
    try {
      const recent = deletesFail();
      const answers = new PgRecentAnswers(recent.db);
      const entry = { answer: { hits: [] } as unknown as Answer, lang: 'en' as const, chat: 1, user: 1 };
      for (let i = 0; i < 200; i++) expect(await answers.add(entry)).toMatch(/\S/);
      expect(recent.deletes()).toBe(1);

      const counted = deletesFail();
      const counters = new PgCounters(counted.db, 60_000, 'questions');
      for (let i = 0; i < 200; i++) expect(await counters.incr('7')).toBe(1);
      expect(counted.deletes()).toBe(1);

      const claimed = deletesFail();
      const claims = new PgUpdateClaims(claimed.db);
      for (let i = 0; i < 500; i++) expect(await claims.claim(i)).toBe('mine');
      expect(claimed.deletes()).toBe(1);
      expect(warn).toHaveBeenCalledTimes(3);
    } finally {
      warn.mockRestore();
    }
  });
});
