import { embedderOptions } from '../config.js';
import { buildSettings } from '../index/settings.js';
import { openStorage } from '../storage/storage.js';
import { loadEmbedder } from '../vectors/embedder.js';
import { describeBuild, progressReporter, run } from './common.js';

// `npm run index`: build or update the index (only new or changed documents are embedded).
await run(async (config) => {
  const embedder = await loadEmbedder(embedderOptions(config));
  const storage = await openStorage(config);
  try {
    const summary = await storage.index.build(buildSettings(config), embedder, progressReporter());
    process.stderr.write(describeBuild(summary) + '\n');
  } finally {
    await storage.close();
  }
});
