import type { Config } from '../config.js';
import { buildSettings, searchOptions } from './settings.js';
import type { Embedder } from '../vectors/embedder.js';
import { buildIndex, type BuildProgress, type BuildSummary } from './build.js';
import { PostgresIndex } from './postgres/source.js';

/** One build into the configured store: PostgreSQL when DATABASE_URL is set, else INDEX_DIR. */
export async function buildConfigured(
  config: Config,
  embedder: Embedder,
  onProgress?: (p: BuildProgress) => void,
  options?: { reuse?: boolean },
): Promise<BuildSummary> {
  if (!config.DATABASE_URL) return buildIndex(buildSettings(config), embedder, onProgress, options);
  const postgres = await PostgresIndex.connect(config.DATABASE_URL, searchOptions(config));
  try {
    return await postgres.build(buildSettings(config), embedder, onProgress);
  } finally {
    await postgres.close();
  }
}
