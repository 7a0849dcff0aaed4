import hnswlib from 'hnswlib-node';
import { topByScore } from './topK.js';

const { HierarchicalNSW } = hnswlib;
export type Hnsw = InstanceType<typeof HierarchicalNSW>;

/**
 * Labels one graph file holds at most. A larger collection's graph is kept in parts of consecutive
 * labels, each its own file, read on threads of their own at start: on this project's 2-core VM
 * fresh memory comes about twice as fast to two threads (hnswlib reads a graph on one), so at
 * 994,250 passages two parts load in 0.62–1.85 s where one graph took 1.27–4.74 s; each question
 * then searches every part (+4 ms at 1M; docs/benchmark.md §8). Below this, one part: as before.
 */
export const GRAPH_PART_LABELS = 500_000;

/**
 * An HNSW graph as parts over consecutive label ranges (part i holds labels from starts[i]), searched
 * as one: each part's best, merged by distance. One part is the plain graph.
 */
export class GraphParts {
  constructor(
    readonly parts: Hnsw[],
    /** The first label of each part (0 first, ascending). */
    readonly starts: number[],
  ) {}

  /** The part that holds (or would hold) a label. */
  partOf(label: number): Hnsw {
    let i = this.starts.length - 1;
    while (i > 0 && this.starts[i]! > label) i--;
    return this.parts[i]!;
  }

  setEf(ef: number): void {
    for (const part of this.parts) part.setEf(ef);
  }

  getCurrentCount(): number {
    return this.parts.reduce((n, part) => n + part.getCurrentCount(), 0);
  }

  /** The k nearest of all parts (hnswlib's shape: neighbours and cosine distances, nearest first). */
  searchKnn(q: number[], k: number): { neighbors: number[]; distances: number[] } {
    const all: { label: number; distance: number }[] = [];
    for (const part of this.parts) {
      const count = part.getCurrentCount();
      if (count === 0) continue;
      const { neighbors, distances } = part.searchKnn(q, Math.min(k, count));
      neighbors.forEach((label, i) => all.push({ label, distance: distances[i]! }));
    }
    const best = all.sort((a, b) => a.distance - b.distance).slice(0, k); // stable: the earlier part first on a tie
    return { neighbors: best.map((h) => h.label), distances: best.map((h) => h.distance) };
  }
}

export interface Neighbours {
  labels: number[];
  sims: number[];
}

/**
 * Nearest passages by cosine similarity (vectors are unit length, so cosine = dot product). In
 * memory (files) the answers are immediate; a database store answers asynchronously.
 */
export interface DenseIndex {
  nearest(q: Float32Array, k: number): Neighbours | Promise<Neighbours>;
  /** The stored vector of a label. */
  vector(label: number): Float32Array | Promise<Float32Array>;
}

export function dot(a: Float32Array, b: Float32Array, offset = 0): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[offset + i]!;
  return s;
}

/** Exhaustive search over the label rows of `vectors`, skipping labels that hold no chunk. */
export class ExactIndex implements DenseIndex {
  private readonly labels: Uint32Array;
  private readonly sims: Float32Array;

  constructor(
    private readonly vectors: Float32Array,
    private readonly dim: number,
    live: (label: number) => boolean,
  ) {
    const slots = vectors.length / dim;
    this.labels = Uint32Array.from({ length: slots }, (_, i) => i).filter(live);
    this.sims = new Float32Array(slots);
  }

  nearest(q: Float32Array, k: number) {
    const { labels, sims, vectors, dim } = this;
    for (const label of labels) sims[label] = dot(q, vectors, label * dim);
    const top = topByScore(labels, labels.length, sims, k);
    return { labels: top, sims: top.map((l) => sims[l]!) };
  }

  vector(label: number): Float32Array {
    return this.vectors.subarray(label * this.dim, (label + 1) * this.dim);
  }
}

/** Labels added since the graph was written: their rows (label `first` onwards), searched exactly. */
export interface GraphDelta {
  first: number;
  vectors: Float32Array;
  dim: number;
  live: (label: number) => boolean;
}

/**
 * Approximate search in an HNSW graph (the graph holds the only copy of its vectors), with the
 * labels added since it was written searched exactly beside it: an update does not rewrite the
 * graph for every document (updateBuild.ts).
 */
export class HnswIndex implements DenseIndex {
  private readonly delta: { first: number; exact: ExactIndex } | undefined;

  constructor(
    readonly hnsw: GraphParts,
    efSearch: number,
    delta?: GraphDelta,
  ) {
    this.setEfSearch(efSearch);
    if (delta?.vectors.length)
      this.delta = {
        first: delta.first,
        exact: new ExactIndex(delta.vectors, delta.dim, (row) => delta.live(delta.first + row)),
      };
  }

  /**
   * Never below 50, the smallest value `tuneEfSearch` measures (hnswlib itself searches with
   * max(ef, k), so asking for more results than efSearch still returns k).
   */
  setEfSearch(ef: number): void {
    this.hnsw.setEf(Math.max(ef, 50));
  }

  nearest(q: Float32Array, k: number) {
    const { neighbors, distances } = this.hnsw.searchKnn(Array.from(q), k);
    const graph = { labels: neighbors, sims: distances.map((d) => 1 - d) };
    if (!this.delta) return graph;
    const { first, exact } = this.delta;
    const added = exact.nearest(q, k);
    const both = [
      ...added.labels.map((row, i) => ({ label: first + row, sim: added.sims[i]! })),
      ...graph.labels.map((label, i) => ({ label, sim: graph.sims[i]! })),
    ];
    const best = both.sort((a, b) => b.sim - a.sim).slice(0, k); // stable: an added label first on a tie
    return { labels: best.map((h) => h.label), sims: best.map((h) => h.sim) };
  }

  vector(label: number): Float32Array {
    if (this.delta && label >= this.delta.first) return this.delta.exact.vector(label - this.delta.first);
    return Float32Array.from(pointOf(this.hnsw.partOf(label), label));
  }
}

/**
 * A label's vector, also when the label is marked deleted: the index that replaces this one may
 * share its graph and mark the labels it deleted (loader.ts) while questions that started on this
 * one still read them (hnswlib refuses a marked label: "Label not found"). Unmarked for the read
 * only; synchronous, so no search runs meanwhile.
 */
function pointOf(graph: Hnsw, label: number): number[] {
  try {
    return graph.getPoint(label);
  } catch (err) {
    try {
      graph.unmarkDelete(label);
    } catch {
      throw err; // not a marked label: one the graph never held
    }
    try {
      return graph.getPoint(label);
    } finally {
      graph.markDelete(label);
    }
  }
}

function newHnsw(dim: number, capacity: number, M: number, efConstruction: number): Hnsw {
  const hnsw = new HierarchicalNSW('cosine', dim);
  hnsw.initIndex({ maxElements: Math.max(1, capacity), m: M, efConstruction, randomSeed: 42 });
  return hnsw;
}

/** Marks a label deleted in a graph (a label marked already stays so: hnswlib throws for it). */
export function markDeleted(graph: GraphParts, label: number): void {
  try {
    graph.partOf(label).markDelete(label);
  } catch {
    // already marked
  }
}

export function emptyHnsw(dim: number): Hnsw {
  return new HierarchicalNSW('cosine', dim);
}

/** An HNSW graph over every label row of `vectors`, in parts of at most `partLabels` labels. */
export function buildGraph(
  vectors: Float32Array,
  dim: number,
  { M, efConstruction, partLabels = GRAPH_PART_LABELS }: { M: number; efConstruction: number; partLabels?: number },
): GraphParts {
  const graph = new GraphParts([], []);
  addToGraph(graph, vectors, dim, 0, vectors.length / dim, { M, efConstruction, partLabels });
  return graph;
}

/**
 * Inserts labels [from, to) (their rows of `vectors`) into the graph's last part, opening a new
 * part whenever the last one holds `partLabels`.
 */
export function addToGraph(
  graph: GraphParts,
  vectors: Float32Array,
  dim: number,
  from: number,
  to: number,
  { M, efConstruction, partLabels = GRAPH_PART_LABELS }: { M: number; efConstruction: number; partLabels?: number },
): void {
  for (let label = from; label < to; label++) {
    let last = graph.parts.at(-1);
    const start = graph.starts.at(-1) ?? 0;
    if (!last || label - start >= partLabels) {
      last = newHnsw(dim, Math.min(partLabels, to - label), M, efConstruction);
      graph.parts.push(last);
      graph.starts.push(label);
    } else if (last.getCurrentCount() >= last.getMaxElements()) {
      // Room for what this call adds, and a fifth more for the next updates.
      last.resizeIndex(Math.min(partLabels, Math.max(to - start, Math.ceil(last.getMaxElements() * 1.2))));
    }
    last.addPoint(Array.from(vectors.subarray(label * dim, (label + 1) * dim)), label);
  }
}

/**
 * The smallest efSearch whose recall@10 against exact search reaches `target`, measured with
 * `queries` (question-like vectors made from the index's own passages) on this graph: the
 * product's vectors are what matters, synthetic clusters are far easier.
 */
export function tuneEfSearch(
  hnsw: GraphParts,
  vectors: Float32Array,
  dim: number,
  live: (label: number) => boolean,
  queries: Float32Array[],
  target = 0.95,
): { efSearch: number; recallAt10: number } {
  const k = Math.min(10, hnsw.getCurrentCount());
  const exact = new ExactIndex(vectors, dim, live);
  const truth = queries.map((q) => exact.nearest(q, k).labels);
  let last = { efSearch: 0, recallAt10: 0 };
  for (const ef of [50, 64, 100, 150, 200, 300, 400, 600, 800, 1200, 1600]) {
    hnsw.setEf(ef);
    let found = 0;
    queries.forEach((q, i) => {
      const got = new Set(hnsw.searchKnn(Array.from(q), k).neighbors);
      found += truth[i]!.filter((l) => got.has(l)).length;
    });
    last = {
      efSearch: ef,
      recallAt10:
        found /
        Math.max(
          1,
          truth.reduce((n, t) => n + t.length, 0),
        ),
    };
    if (last.recallAt10 >= target) break;
  }
  return last;
}
