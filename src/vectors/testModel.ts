/**
 * A tiny, deterministic, BERT-shaped embedding model for tests (stands in for
 * Xenova/multilingual-e5-small, which tests cannot download).
 *
 * The "model" is a single ONNX Gather: token id -> row of an embedding table. After the
 * pipeline's mean pooling + normalize, a text's vector is an IDF-weighted bag-of-words
 * sketch: every word row is a pseudo-random unit vector (nearly orthogonal to the others in
 * `dim` dimensions) scaled by the word's IDF, so texts sharing rare words get a high cosine
 * and unrelated texts land near 0. It is loaded through the ordinary transformers.js
 * `pipeline('feature-extraction', ...)` path, so the product code under test is unchanged.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
const MAX_VOCAB = 30_000;
/**
 * Rows of character pieces and punctuation are this fraction of the largest IDF: unknown words
 * still count a little, and the ":" of the "query: "/"passage: " prefixes (rare in the corpus,
 * so high IDF) does not make every short passage look like every query.
 */
const CHAR_WEIGHT = 0.05;
/** transformers.js WordPiece turns longer words into [UNK], so they are useless in the vocab. */
const MAX_WORD_CHARS = 100;

// ---- Text splitting: mirrors BertNormalizer + BertPreTokenizer of @huggingface/tokenizers, so
// the vocabulary holds exactly the words the tokenizer will produce at run time.

const PUNCT = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const WORD_RE = new RegExp(`[^\\s${PUNCT}]+|[${PUNCT}]`, 'gu');
const PUNCT_RE = new RegExp(`^[${PUNCT}]$`, 'u');

function normalize(text: string): string {
  return (
    text
      // clean_text: drop control/format chars, except \t\n\r which become spaces.
      .replace(/[\0\uFFFD\p{Cc}\p{Cf}\p{Co}\p{Cs}]/gu, (c) => ('\t\n\r'.includes(c) ? ' ' : ''))
      // handle_chinese_chars: each CJK ideograph is its own word (the library checks UTF-16 units).
      .replace(/[\u4E00-\u9FFF\u3400-\u4DBF\uF900-\uFAFF]/g, ' $& ')
      .toLowerCase()
      // strip_accents
      .normalize('NFD')
      .replace(/\p{Mn}/gu, '')
  );
}

function splitWords(text: string): string[] {
  return normalize(text).trim().match(WORD_RE) ?? [];
}

// ---- Deterministic pseudo-random vectors (no Math.random: same inputs -> same bytes).

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A unit vector seeded by the token string (Gaussian via Box–Muller, so directions are uniform). */
function unitVector(token: string, dim: number): Float64Array {
  const rand = mulberry32(fnv1a(token));
  const v = new Float64Array(dim);
  for (let i = 0; i < dim; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rand())); // 1 - rand() in (0, 1]: no log(0)
    const theta = 2 * Math.PI * rand();
    v[i] = r * Math.cos(theta);
    if (i + 1 < dim) v[i + 1] = r * Math.sin(theta);
  }
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

// ---- Corpus -> vocabulary + weights.

async function readCorpus(corpusDir: string): Promise<string[]> {
  // Sorted names: the file order must not depend on the file system.
  const names = (await readdir(corpusDir)).filter((n) => /\.(txt|md)$/i.test(n)).sort();
  return Promise.all(names.map((n) => readFile(path.join(corpusDir, n), 'utf8')));
}

interface Vocab {
  tokens: string[];
  weights: number[];
}

function buildVocab(texts: string[]): Vocab {
  const paragraphs = texts.flatMap((t) => t.split(/\n\s*\n/)).filter((p) => p.trim() !== '');
  const df = new Map<string, number>();
  for (const p of paragraphs) {
    for (const w of new Set(splitWords(p))) if ([...w].length <= MAX_WORD_CHARS) df.set(w, (df.get(w) ?? 0) + 1);
  }
  const n = Math.max(paragraphs.length, 1);
  const idf = (d: number) => Math.log(1 + n / d);

  // Every character seen, alone and as a "##" continuation, so WordPiece spells unknown words
  // out in pieces instead of collapsing them to [UNK].
  const chars = [...new Set([...df.keys()].flatMap((w) => [...w]))].sort();
  const charPieces = chars.flatMap((c) => [c, '##' + c]);

  // Words compete for the room left after specials and characters: most frequent first.
  const byCode = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0); // locale-independent
  const room = Math.max(MAX_VOCAB - SPECIALS.length - charPieces.length, 0);
  const words = [...df.keys()].sort((a, b) => df.get(b)! - df.get(a)! || byCode(a, b)).slice(0, room);

  const weights = new Map<string, number>();
  for (const s of SPECIALS) weights.set(s, 0); // zero rows: [CLS]/[SEP] do not move the mean
  // ...except a tiny [CLS] row, so an empty or all-[UNK] text pools to a valid unit vector
  // instead of NaN (0/0 in normalize); it is ~1e-4 of a word row, so rankings do not notice.
  weights.set('[CLS]', 1e-3 * CHAR_WEIGHT);
  const charWeight = CHAR_WEIGHT * idf(1);
  for (const w of words) weights.set(w, PUNCT_RE.test(w) ? charWeight : idf(df.get(w)!));
  for (const c of charPieces) if (!weights.has(c)) weights.set(c, charWeight);
  return { tokens: [...weights.keys()], weights: [...weights.values()] };
}

// ---- Writers.

/** Graph nodes: a Gather from the word table (the pipeline pools and normalizes). */
const PLAIN_NODES = [
  { opType: 'Gather', input: ['embeddings', 'input_ids'], output: ['last_hidden_state'], name: 'lookup' },
];

/** Graph nodes of a squeezed model: pooled and normalized in the graph, one coordinate appended, repeated per token. */
const SQUEEZED_NODES = [
  { opType: 'Gather', input: ['embeddings', 'input_ids'], output: ['rows'], name: 'lookup' },
  {
    opType: 'ReduceMean',
    input: ['rows'],
    output: ['mean'],
    name: 'pool',
    attribute: [
      { name: 'axes', type: 7, ints: [1] },
      { name: 'keepdims', type: 2, i: 1 },
    ],
  },
  {
    opType: 'LpNormalization',
    input: ['mean'],
    output: ['unit'],
    name: 'normalize',
    attribute: [
      { name: 'axis', type: 2, i: -1 },
      { name: 'p', type: 2, i: 2 },
    ],
  },
  { opType: 'Pad', input: ['unit', 'pads', 'extra'], output: ['lifted'], name: 'append' },
  { opType: 'Shape', input: ['input_ids'], output: ['ids_shape'], name: 'shape' },
  {
    opType: 'Concat',
    input: ['ids_shape', 'out_dim'],
    output: ['out_shape'],
    name: 'out_shape',
    attribute: [{ name: 'axis', type: 2, i: 0 }],
  },
  { opType: 'Expand', input: ['lifted', 'out_shape'], output: ['last_hidden_state'], name: 'repeat' },
];

const { FLOAT, INT64 } = onnx.TensorProto.DataType;

const tensorType = (elemType: number, dims: (string | number)[]) => ({
  tensorType: {
    elemType,
    shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
  },
});
const int64s = (name: string, values: number[]) => ({
  name,
  dataType: INT64,
  dims: [values.length],
  int64Data: values,
});
const float = (name: string, value: number) => ({ name, dataType: FLOAT, dims: [], floatData: [value] });

/** The word table: each token's unit vector times its weight, as Float32 little-endian (ONNX raw_data). */
function wordTable(vocab: Vocab, dim: number) {
  const raw = new DataView(new ArrayBuffer(vocab.tokens.length * dim * 4));
  vocab.tokens.forEach((token, row) => {
    const v = unitVector(token, dim);
    const w = vocab.weights[row]!;
    for (let j = 0; j < dim; j++) raw.setFloat32((row * dim + j) * 4, w * v[j]!, true);
  });
  return { name: 'embeddings', dataType: FLOAT, dims: [vocab.tokens.length, dim], rawData: new Uint8Array(raw.buffer) };
}

/**
 * The ONNX graph: a Gather from the word table. With `compress` > 0 the graph also pools and
 * normalizes the text itself (u, unit length), appends one coordinate of value `compress` and
 * repeats that row for every token, so the pipeline's pooling yields [u, c] / √(1 + c²): cosines
 * become (u₁·u₂ + c²) / (1 + c²) — the same ranking, squeezed high (c = √3: 0 → 0.75, 0.5 → 0.875).
 */
function onnxModel(vocab: Vocab, dim: number, compress: number): Uint8Array {
  const table = wordTable(vocab, dim);
  const outDim = compress > 0 ? dim + 1 : dim;
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'cite-test-model',
    graph: {
      name: 'bag_of_words',
      // The declared inputs decide which tokenizer outputs transformers.js feeds: only input_ids.
      input: [{ name: 'input_ids', type: tensorType(INT64, ['batch_size', 'sequence_length']) }],
      output: [{ name: 'last_hidden_state', type: tensorType(FLOAT, ['batch_size', 'sequence_length', outDim]) }],
      initializer:
        compress > 0
          ? [table, int64s('pads', [0, 0, 0, 0, 0, 1]), float('extra', compress), int64s('out_dim', [outDim])]
          : [table],
      node: compress > 0 ? SQUEEZED_NODES : PLAIN_NODES,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function tokenizerJson(vocab: Vocab): object {
  const id = (t: string) => vocab.tokens.indexOf(t);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    // Specials must be added_tokens (special: true) as well as in tokenizer_config.json, or
    // transformers.js cannot pad batches.
    added_tokens: SPECIALS.map((content, i) => ({
      id: i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: true,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', id('[SEP]')], cls: ['[CLS]', id('[CLS]')] },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: MAX_WORD_CHARS,
      // fromEntries: own data properties, so even a "__proto__" token would be safe.
      vocab: Object.fromEntries(vocab.tokens.map((t, i) => [t, i])),
    },
  };
}

/**
 * `compress` > 0 gives a second model with another score scale (cosines squeezed high, like
 * multilingual-e5's 0.7–0.9) and the same ranking: for testing that decisions do not depend on
 * the scale (see onnxModel).
 *
 * Writes the test model folder `dir` (config.json, tokenizer.json, tokenizer_config.json,
 * onnx/model.onnx) with a vocabulary and IDF weights taken from the .txt/.md files of
 * `corpusDir`. Same inputs give byte-identical files.
 */
export async function writeTestModel(
  dir: string,
  corpusDir: string,
  opts: { dim?: number; compress?: number } = {},
): Promise<void> {
  const dim = opts.dim ?? 384; // e5-small's size, so index code sees realistic vectors
  const vocab = buildVocab(await readCorpus(corpusDir));
  const json = (o: object) => JSON.stringify(o, null, 2) + '\n';

  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  await writeFile(
    path.join(dir, 'config.json'),
    json({
      architectures: ['BertModel'],
      model_type: 'bert',
      hidden_size: opts.compress ? dim + 1 : dim,
      vocab_size: vocab.tokens.length,
      max_position_embeddings: 512,
      pad_token_id: 0,
      // Makes transformers.js pick onnx/model.onnx (not model_quantized.onnx) by default.
      'transformers.js_config': { dtype: 'fp32' },
    }),
  );
  await writeFile(path.join(dir, 'tokenizer.json'), json(tokenizerJson(vocab)));
  await writeFile(
    path.join(dir, 'tokenizer_config.json'),
    json({
      tokenizer_class: 'BertTokenizer',
      model_max_length: 512,
      do_lower_case: true,
      tokenize_chinese_chars: true,
      clean_up_tokenization_spaces: true,
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      mask_token: '[MASK]',
    }),
  );
  await writeFile(path.join(dir, 'onnx', 'model.onnx'), onnxModel(vocab, dim, opts.compress ?? 0));
}
