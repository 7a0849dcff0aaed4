import type { Db } from '../../db/pool.js';
import type { Embedder } from '../../vectors/embedder.js';
import { RETUNE_AT, sampleLabels, TUNING_QUERIES } from '../buildParts.js';
import type { Manifest } from '../manifest.js';
import { pseudoQuestions } from '../sample.js';
import { PgDense, VISIBLE } from './reader.js';
import type { GraphParams } from './schema.js';

/** ef_search values tried, smallest first: from 50, the candidates the retriever asks for, to pgvector's maximum. */
const CANDIDATES = [50, 64, 100, 150, 200, 300, 400, 600, 800, 1000];
/**
 * recall@10 against an exact scan that ef_search must reach on the sample: 0.97, so that other
 * questions get 0.95 (50 questions estimate it within about ±0.03; at 99,425 passages the sample's
 * 0.96 at ef_search 300 was 0.93 on 30 other questions).
 */
const TARGET = 0.97;

/**
 * The smallest ef_search whose recall@10 against an exact scan reaches TARGET on this generation's
 * own passages (question-like queries made from a sample of them, as the file store measures its
 * graph). Kept from the previous generation while the graph and the collection's size stay.
 */
export async function tuneEfSearch(
  db: Db,
  generation: number,
  embedder: Embedder,
  liveLabels: number[],
  graph: GraphParams,
  previous: Manifest['hnsw'] | undefined,
): Promise<NonNullable<Manifest['hnsw']>> {
  const size = liveLabels.length;
  const same = previous && previous.M === graph.M && previous.efConstruction === graph.efConstruction;
  if (same && Math.abs(size - previous.tunedAtChunks) <= RETUNE_AT * previous.tunedAtChunks) return previous;
  const labels = sampleLabels(size, () => true, Math.min(TUNING_QUERIES, size)).map((i) => liveLabels[i]!);
  const { rows } = await db.query<{ text: string }>(
    `SELECT chunk->>'text' AS text FROM cite_passages WHERE label = ANY($2::int[]) AND ${VISIBLE} ORDER BY label`,
    [generation, labels],
  );
  const queries = await Promise.all(pseudoQuestions(rows.map((r) => r.text)).map((q) => embedder.embedQuery(q)));
  const k = Math.min(10, size);
  const exact = new PgDense(db, generation, undefined);
  const truth: Set<number>[] = [];
  for (const q of queries) truth.push(new Set((await exact.nearest(q, k)).labels));
  let last = { efSearch: 0, recallAt10: 0 };
  for (const ef of CANDIDATES) {
    const hnsw = new PgDense(db, generation, ef);
    let found = 0;
    for (const [i, q] of queries.entries())
      found += (await hnsw.nearest(q, k)).labels.filter((l) => truth[i]!.has(l)).length;
    last = { efSearch: ef, recallAt10: found / Math.max(1, queries.length * k) };
    if (last.recallAt10 >= TARGET) break;
  }
  return { M: graph.M, efConstruction: graph.efConstruction, ...last, tunedAtChunks: size };
}
