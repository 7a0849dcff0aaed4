/**
 * Writes the tiny offline test embedding model (see src/vectors/testModel.ts).
 *   npm run test-model -- <dir> [--corpus <folder>]
 * Messages go to stderr; stdout stays empty.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeTestModel } from '../vectors/testModel.js';

const usage =
  'usage: npm run test-model -- <dir> [--corpus <folder>]  (corpus defaults to seeds, the default documents folder)';

try {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { corpus: { type: 'string', default: 'seeds' } },
  });
  if (positionals.length !== 1) {
    console.error(usage);
    process.exit(2);
  }
  const dir = path.resolve(positionals[0]!);
  await writeTestModel(dir, values.corpus);
  // Paths as seen from here (relative, as given), never the server's absolute ones.
  const shown = (p: string): string => path.relative(process.cwd(), p) || '.';
  console.error(
    `Wrote a tiny bag-of-words test embedding model to ${shown(dir)} (vocabulary from ${shown(path.resolve(values.corpus))}).\n` +
      `Use it instead of the real model (offline, deterministic):\n  EMBED_MODEL=${shown(dir)}`,
  );
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  console.error(usage);
  process.exit(1);
}
