import { buildConfigured } from '../index/buildConfigured.js';
import { embedderOptions } from '../config.js';
import { loadEmbedder } from '../vectors/embedder.js';
import { describeBuild, progressReporter, run } from './common.js';

// `npm run index`: build or update the index (only new or changed documents are embedded).
await run(async (config) => {
  const embedder = await loadEmbedder(embedderOptions(config));
  const summary = await buildConfigured(config, embedder, progressReporter());
  process.stderr.write(describeBuild(summary) + '\n');
});
