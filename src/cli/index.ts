import { embedderOptions, type Config } from '../config.js';
import { Engine } from '../engine.js';
import type { BuildSummary } from '../index/build.js';
import { buildSettings } from '../index/settings.js';
import { describeReplyShares } from '../replies/gate.js';
import { forTerminal } from '../replies/plain.js';
import { openStorage } from '../storage/storage.js';
import { loadEmbedder, type Embedder } from '../vectors/embedder.js';
import { describeBuild, noArguments, progressReporter, run } from './common.js';

// `npm run index`: build or update the index (only new or changed documents are embedded).
await run(async (config) => {
  noArguments('Usage: npm run index');
  const embedder = await loadEmbedder(embedderOptions(config));
  const summary = await build(config, embedder);
  process.stderr.write(forTerminal(describeBuild(summary)) + '\n'); // names and reasons quote the documents
  if (!summary.upToDate) process.stderr.write(`  ${await healthOf(config, embedder)}\n`);
});

async function build(config: Config, embedder: Embedder): Promise<BuildSummary> {
  const storage = await openStorage(config);
  try {
    return await storage.index.build(buildSettings(config), embedder, progressReporter());
  } finally {
    await storage.close();
  }
}

/** How the index just built replies to its own question-like texts (the engine answers as the bot would). */
async function healthOf(config: Config, embedder: Embedder): Promise<string> {
  const engine = await Engine.open(config, undefined, { embedder });
  try {
    return describeReplyShares(await engine.ownReplyShares());
  } finally {
    await engine.close();
  }
}
