import path from 'node:path';
import { Engine } from '../../src/engine.js';
import { writeTestModel } from '../../src/vectors/testModel.js';
import { SEEDS, testConfig, testModelDir } from './testModel.js';

/**
 * Engines over the fixture seeds with two real models of different cosine scales: the test model,
 * and a variant whose scores are squeezed into 0.75–1 — what a model-independent gate must survive.
 */
export async function plainAndSqueezed(tempDir: () => string): Promise<{ plain: Engine; squeezed: Engine }> {
  const plain = await Engine.open(
    testConfig({ EMBED_MODEL: await testModelDir(), INDEX_DIR: path.join(tempDir(), 'index') }),
  );
  const squeezedModel = path.join(tempDir(), 'squeezed-model');
  await writeTestModel(squeezedModel, SEEDS, { compress: Math.sqrt(3) });
  const squeezed = await Engine.open(
    testConfig({ EMBED_MODEL: squeezedModel, INDEX_DIR: path.join(tempDir(), 'index') }),
  );
  return { plain, squeezed };
}
