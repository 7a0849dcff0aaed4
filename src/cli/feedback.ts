import { evalLinesOf } from '../desk/reports.js';
import { openStorage } from '../storage/storage.js';
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
  // The desk the bot writes to (in a shared storage: every replica's records).
  const storage = await openStorage(config);
  try {
    const lines = await evalLinesOf(storage.openDesk().entries()); // the file is read as a stream
    for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
    const answered = lines.filter((l) => l.gold.length).length;
    process.stderr.write(
      `${lines.length} questions: ${answered} with 👍 passages as gold, ${lines.length - answered} not covered (gold: [], to review).\n`,
    );
  } finally {
    await storage.close();
  }
});
