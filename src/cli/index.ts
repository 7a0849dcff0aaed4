import { embedderOptions, type Config } from '../config.js';
import { Engine } from '../engine.js';
import type { BuildSummary } from '../index/build.js';
import { buildSettings } from '../index/settings.js';
import type { ReplyShares } from '../retrieval/health.js';
import { forTerminal } from '../replies/plain.js';
import { openStorage } from '../storage/storage.js';
import { loadEmbedder, type Embedder } from '../vectors/embedder.js';
import { describeBuild, describedHealth, noArguments, progressReporter, run } from './common.js';

/** Builds or updates the index and reports it; a build that succeeded is not reported as failed when measuring its replies fails. */
export async function indexAndReport(config: Config, embedder: Embedder, out = process.stderr): Promise<void> {
  const summary = await build(config, embedder);
  out.write(forTerminal(describeBuild(summary)) + '\n'); // names and reasons quote the documents
  if (summary.upToDate) return;
  const health = await describedHealth(healthOf(config, embedder));
  if (health) out.write(`  ${health}\n`);
}

async function build(config: Config, embedder: Embedder): Promise<BuildSummary> {
  const storage = await openStorage(config);
  try {
    return await storage.index.build(buildSettings(config), embedder, progressReporter());
  } finally {
    await storage.close();
  }
}

/** How the index just built replies to its own question-like texts (the engine answers as the bot would). */
async function healthOf(config: Config, embedder: Embedder): Promise<ReplyShares> {
  const engine = await Engine.open(config, undefined, { embedder });
  try {
    return await engine.ownReplyShares();
  } finally {
    await engine.close();
  }
}

// `npm run index`: build or update the index (only new or changed documents are embedded).
if (import.meta.url === `file://${process.argv[1]}`) {
  await run(async (config) => {
    noArguments('Usage: npm run index');
    await indexAndReport(config, await loadEmbedder(embedderOptions(config)));
  });
}
