import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * This code runs either compiled (dist/, what the npm commands start) or from the TypeScript
 * sources through tsx (tests, `npx tsx`, a checkout before `npm run build`). A worker thread does
 * not inherit tsx: from the sources it starts through the plain `<name>.mjs` beside the module,
 * which registers tsx and then imports `<name>.ts`; compiled, it starts `<name>.js` directly.
 */
export function startWorker(
  base: string,
  name: string,
  options: WorkerOptions & { workerData: Record<string, unknown> },
): Worker {
  if (isCompiled(base)) return new Worker(new URL(`./${name}.js`, base), options);
  return new Worker(new URL(`./${name}.mjs`, base), {
    ...options,
    workerData: { ...options.workerData, entry: new URL(`./${name}.ts`, base).href },
  });
}

/** Whether the module at `url` is compiled JavaScript (dist/) rather than a TypeScript source. */
export const isCompiled = (url: string) => url.endsWith('.js');

/**
 * `node` arguments that run the module `<name>` beside `base` in a child process, in the same form
 * as this code: compiled `<name>.js` directly, else `<name>.ts` through the tsx loader.
 */
export function nodeArgsFor(base: string, name: string): string[] {
  if (isCompiled(base)) return [fileURLToPath(new URL(`./${name}.js`, base))];
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return ['--import', tsx, fileURLToPath(new URL(`./${name}.ts`, base))];
}

/**
 * When this code runs compiled and a file in src/ is newer than the build (dist/BUILT, written by
 * scripts/build.mjs), the warning to give: the commands would otherwise run yesterday's code.
 */
export function staleBuildWarning(): string | undefined {
  if (!isCompiled(import.meta.url)) return undefined;
  const dist = path.dirname(fileURLToPath(import.meta.url));
  const src = path.join(dist, '..', 'src');
  const built = path.join(dist, 'BUILT');
  if (!existsSync(src) || !existsSync(built)) return undefined;
  const builtAt = statSync(built).mtimeMs;
  const newer = readdirSync(src, { recursive: true, withFileTypes: true }).filter(
    (e) => e.isFile() && statSync(path.join(e.parentPath, e.name)).mtimeMs > builtAt,
  );
  if (newer.length === 0) return undefined;
  const first = path.relative(path.join(dist, '..'), path.join(newer[0]!.parentPath, newer[0]!.name));
  return `dist/ is older than src/ (${first}${newer.length > 1 ? ` and ${newer.length - 1} more` : ''} changed since the build): run \`npm run build\` to run the current code.`;
}
