import type { Engine } from '../engine.js';
import { packMessages, renderHtmlBlocks } from '../replies/html.js';
import type { Embedder } from '../vectors/embedder.js';
import { percentiles, silent, type Logger, type Percentiles } from './common.js';

// ---------------------------------------------------------------- 2. query path

export interface QueryPathResult {
  queries: number;
  /** question → reply text (ask + renderHtmlBlocks + packMessages), ms */
  total: Percentiles;
  /** time inside the embedder (the query, plus sentences compared by meaning) */
  embed: Percentiles;
  /** everything else: HNSW, BM25, fusion, reply rendering */
  rest: Percentiles;
  /** share of the summed time spent embedding */
  embedShare: number;
  answered: number;
  messages: number;
}

/** Times the embedder's calls by wrapping them (the Engine's own embedder object). */
function instrument(embedder: Embedder): { elapsed: () => number; restore: () => void } {
  let ms = 0;
  const { embedQuery, embedPassages } = embedder;
  embedder.embedQuery = async (text) => {
    const t = performance.now();
    try {
      return await embedQuery.call(embedder, text);
    } finally {
      ms += performance.now() - t;
    }
  };
  embedder.embedPassages = async (texts, onBatch) => {
    const t = performance.now();
    try {
      return await embedPassages.call(embedder, texts, onBatch);
    } finally {
      ms += performance.now() - t;
    }
  };
  return {
    elapsed: () => ms,
    restore: () => {
      embedder.embedQuery = embedQuery;
      embedder.embedPassages = embedPassages;
    },
  };
}

/**
 * Questions cycled to about `target` queries, after one untimed warm-up pass. Each is timed as a
 * new question (the retriever's remembered query embeddings are dropped first): users rarely ask
 * the same words twice, and a cycled list would otherwise time only the first round's model calls.
 */
export async function queryPathSection(
  engine: Engine,
  questions: string[],
  target: number,
  log: Logger = silent,
): Promise<QueryPathResult> {
  if (questions.length === 0) throw new Error('No questions for the query-path benchmark.');
  const rounds = Math.max(1, Math.round(target / questions.length));
  const reply = replier(engine);
  for (const q of questions) await reply(q); // warm-up: JIT, tokenizer and ONNX session caches
  log(`query path: ${rounds * questions.length} queries`);
  const asked = Array.from({ length: rounds }, () => questions).flat();
  const { total, embed, answered, messages } = await timeReplies(engine, reply, asked);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    queries: total.length,
    total: percentiles(total),
    embed: percentiles(embed),
    rest: percentiles(total.map((t, i) => t - embed[i]!)),
    embedShare: sum(embed) / sum(total),
    answered,
    messages,
  };
}

/** Question → the bot's reply messages, as the bot does it: 10 hits fetched, TOP_K shown. */
function replier(engine: Engine) {
  const titles = engine.manifest.documents.map((d) => d.title);
  const shown = engine.config.TOP_K;
  return async (q: string) => {
    const answer = await engine.ask(q, 10);
    return { answer, messages: packMessages(renderHtmlBlocks(answer, titles, shown)) };
  };
}

/** Each question's reply timed as a new question's: in all, and inside the embedder. */
async function timeReplies(engine: Engine, reply: ReturnType<typeof replier>, questions: string[]) {
  const timer = instrument(engine.embedder);
  const total: number[] = [];
  const embed: number[] = [];
  let answered = 0;
  let messages = 0;
  try {
    for (const q of questions) {
      engine.forgetQuestions();
      const e0 = timer.elapsed();
      const t0 = performance.now();
      const out = await reply(q);
      total.push(performance.now() - t0);
      embed.push(timer.elapsed() - e0);
      if (out.answer.answered) answered++;
      messages += out.messages.length;
    }
  } finally {
    timer.restore();
  }
  return { total, embed, answered, messages };
}
