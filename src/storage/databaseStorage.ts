import type { Config } from '../config.js';
import { PgCounters, PgRecentAnswers } from '../db/botState.js';
import { PgUpdateClaims } from '../db/updateClaims.js';
import { PgDeskStore } from '../desk/postgres.js';
import { PostgresIndex } from '../index/postgres/source.js';
import { searchOptions } from '../index/settings.js';
import type { Storage } from './storage.js';

/** Everything in PostgreSQL (DATABASE_URL), shared by every replica (see storage.ts). */
export async function openDatabaseStorage(url: string, config: Config): Promise<Storage> {
  return databaseStorage(await PostgresIndex.connect(url, searchOptions(config)));
}

function databaseStorage(index: PostgresIndex): Storage {
  const { db } = index;
  return {
    shared: true,
    index,
    openDesk: () => new PgDeskStore(db),
    openRecentAnswers: () => new PgRecentAnswers(db),
    windowCounters: (scope, windowMs) => new PgCounters(db, windowMs, scope),
    limiterClient: (scope, windowMs) => new PgCounters(db, windowMs, scope),
    openUpdateClaims: () => new PgUpdateClaims(db),
    check: async () => void (await db.query('SELECT 1')),
    close: () => index.close(),
  };
}
