// `npm run build` (also run by `npm ci` / `npm install` through the `prepare` script): compiles src/
// to dist/ one file per module (no bundling: same layout, so relative imports, workers and data files
// resolve as in src/). The commands then start plain JavaScript: no TypeScript compiled at every start.
// Type checking is `npm run typecheck` (tsc); esbuild only strips the types.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const out = path.resolve(root, process.argv[2] ?? 'dist');

const files = readdirSync(src, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile())
  .map((e) => path.join(e.parentPath, e.name));
const sources = files.filter((f) => f.endsWith('.ts'));
// Data files read next to their module (e.g. index/offtopic.tsv). The .mjs loaders of the
// workers are only for running the sources through tsx: the compiled workers start directly.
const data = files.filter((f) => !f.endsWith('.ts') && !f.endsWith('.mjs'));

const started = performance.now();
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: sources,
  outdir: out,
  outbase: src,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
for (const f of data) {
  const to = path.join(out, path.relative(src, f));
  mkdirSync(path.dirname(to), { recursive: true });
  copyFileSync(f, to);
}
// When it was built: the commands warn when a file in src/ is newer (a forgotten `npm run build`).
writeFileSync(path.join(out, 'BUILT'), new Date().toISOString() + '\n');
process.stderr.write(
  `built ${path.relative(root, out) || out}/ from ${sources.length} modules in ${Math.round(performance.now() - started)} ms\n`,
);
