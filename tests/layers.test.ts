/**
 * Imports point one way along the data's path (docs/architecture.md): a module may import its own
 * layer and the layers below it, never one above. Every file under src/ belongs to a layer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './support/testModel.js';

/**
 * The layers, lowest first; a layer is a list of paths under src/ (folders end with '/'). The most
 * specific path decides: `db/pool.ts` (the connection) and `db/unavailable.ts` are shared ground, the rest of db/ is state.
 */
const LAYERS: [name: string, paths: string[]][] = [
  [
    'shared ground',
    [
      'paths.ts',
      'log.ts',
      'progress.ts',
      'quantile.ts',
      'modules.ts',
      'config.ts',
      'text/',
      'db/pool.ts',
      'db/unavailable.ts',
    ],
  ],
  ['documents', ['documents/']],
  ['chunks', ['chunks/']],
  ['vectors', ['vectors/']],
  ['index', ['index/']],
  ['retrieval', ['retrieval/']],
  ['replies', ['replies/']],
  ['state beyond the index', ['desk/', 'db/']],
  ['storage', ['storage/']],
  ['engine', ['engine.ts']],
  // The bot, lowest first: the wire to Telegram, the pieces messages are made of, the document
  // viewer, one composer per feature, and `telegram/bot.ts` assembling them (a front end).
  ['telegram delivery', ['telegram/delivery/']],
  ['telegram ui', ['telegram/ui/']],
  ['telegram viewer', ['telegram/viewer/']],
  ['telegram features', ['telegram/features/']],
  ['front ends', ['telegram/', 'bench/']],
  ['commands', ['cli/']],
];

/** The layer of a path relative to src/ (posix separators), or undefined when none claims it. */
function layerOf(file: string): number | undefined {
  let best: { layer: number; length: number } | undefined;
  LAYERS.forEach(([, paths], layer) => {
    for (const p of paths) {
      const matches = p.endsWith('/') ? file.startsWith(p) : file === p;
      if (matches && (!best || p.length > best.length)) best = { layer, length: p.length };
    }
  });
  return best?.layer;
}

/** Relative module specifiers of a source text: static imports, re-exports, side-effect and dynamic imports. */
function importsOf(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(
    /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm,
  )) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec?.startsWith('.')) found.push(spec);
  }
  return found;
}

/** `from` imports `spec`: the imported file relative to src/ (a .js specifier names the .ts file). */
function resolve(from: string, spec: string): string {
  return path.posix.normalize(path.posix.join(path.posix.dirname(from), spec)).replace(/\.js$/, '.ts');
}

/** Every import that points to a higher layer, as "from → to (layer → layer)". */
function backImports(files: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [file, source] of files) {
    const own = layerOf(file)!;
    for (const spec of importsOf(source)) {
      const target = resolve(file, spec);
      const theirs = layerOf(target);
      if (theirs !== undefined && theirs > own)
        out.push(`${file} → ${target} (${LAYERS[own]![0]} → ${LAYERS[theirs]![0]})`);
    }
  }
  return out;
}

function sourceFiles(dir: string, base = dir): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) for (const [k, v] of sourceFiles(full, base)) files.set(k, v);
    else if (/\.(ts|mjs)$/.test(entry.name))
      files.set(path.relative(base, full).split(path.sep).join('/'), readFileSync(full, 'utf8'));
  }
  return files;
}

describe('import direction', () => {
  const files = sourceFiles(path.join(REPO, 'src'));

  it('puts every file under src/ in a layer', () => {
    expect([...files.keys()].filter((f) => layerOf(f) === undefined)).toEqual([]);
  });

  it('has no import that points up the path', () => {
    expect(backImports(files)).toEqual([]);
  });

  it('finds the imports of every form, and a back-import among them', () => {
    const source = [
      "import { a } from '../retrieval/search.js';",
      "import type { B } from './b.js';",
      "export { c } from '../text/terms.js';",
      "import 'dotenv/config';",
      "import './side.js';",
      "const m = await import('../telegram/bot.js');",
      'import {\n  d,\n  e,\n} from "../chunks/chunk.js";',
    ].join('\n');
    expect(importsOf(source)).toEqual([
      '../retrieval/search.js',
      './b.js',
      '../text/terms.js',
      './side.js',
      '../telegram/bot.js',
      '../chunks/chunk.js',
    ]);
    const probe = new Map([['index/probe.ts', source]]);
    expect(backImports(probe)).toEqual([
      'index/probe.ts → retrieval/search.ts (index → retrieval)',
      'index/probe.ts → telegram/bot.ts (index → front ends)',
    ]);
  });

  it("keeps the bot's parts in order: delivery and ui below the features, the features below bot.ts", () => {
    const probe = new Map([
      ['telegram/ui/probe.ts', "import { questions } from '../features/questions.js';"],
      ['telegram/delivery/probe.ts', "import { replyHtml } from '../ui/messages.js';"],
      [
        'telegram/features/probe.ts',
        "import { createBot } from '../bot.js';\nimport { CALLBACKS } from '../ui/callbacks.js';",
      ],
      ['telegram/viewer/probe.ts', "import type { BotDeps } from '../features/context.js';"],
    ]);
    expect(backImports(probe)).toEqual([
      'telegram/ui/probe.ts → telegram/features/questions.ts (telegram ui → telegram features)',
      'telegram/delivery/probe.ts → telegram/ui/messages.ts (telegram delivery → telegram ui)',
      'telegram/features/probe.ts → telegram/bot.ts (telegram features → front ends)',
      'telegram/viewer/probe.ts → telegram/features/context.ts (telegram viewer → telegram features)',
    ]);
  });
});
