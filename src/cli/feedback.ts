import { openDb } from '../db/pool.js';
import { JsonLinesStore } from '../desk/jsonLines.js';
import { PgDeskStore } from '../desk/postgres.js';
import { evalLinesOf } from '../desk/reports.js';
import type { DeskStore } from '../desk/store.js';
import { migrate } from '../index/postgres/schema.js';
import { parseCommandLine, run, UsageError } from './common.js';

// `npm run feedback -- export > more-questions.jsonl`: the users' questions in the eval format.
const USAGE = 'Usage: npm run feedback -- export > more-questions.jsonl';

await run(async (config) => {
  const { positionals } = parseCommandLine({}, USAGE);
  if (positionals.length !== 1 || positionals[0] !== 'export')
    throw new UsageError(
      positionals.length ? `Unknown command "${positionals.join(' ')}".` : 'No command given.',
      USAGE,
    );
  // The desk the bot writes to: in PostgreSQL with DATABASE_URL (every replica's records), else beside the index.
  const db = config.DATABASE_URL ? openDb(config.DATABASE_URL, 1) : undefined;
  try {
    if (db) await migrate(db);
    const store: DeskStore = db ? new PgDeskStore(db) : JsonLinesStore.open(config.INDEX_DIR);
    const lines = await evalLinesOf(store.entries()); // the file is read as a stream
    for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
    const answered = lines.filter((l) => l.gold.length).length;
    process.stderr.write(
      `${lines.length} questions: ${answered} with 👍 passages as gold, ${lines.length - answered} not covered (gold: [], to review).\n`,
    );
  } finally {
    await db?.end();
  }
});
