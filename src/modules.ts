import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { log } from './log.js';

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

/** How long `stopWorker` waits for a thread's end to be reported before going on without it. */
export const WORKER_STOP_MS = 5_000;

/**
 * Ends a worker thread: resolved once its exit is reported, or after `waitMs` (it then ends with
 * the process). Node's `terminate()` promise alone was seen never to settle: the event loop emptied
 * before the idle (unref'd) thread's exit was reported, and a command still awaiting it ended with
 * exit code 13 (unsettled top-level await), its last lines unprinted (2 in about 420 `npm run index`
 * runs on a busy machine). A timer holds the event loop meanwhile.
 */
export async function stopWorker(worker: Worker, waitMs = WORKER_STOP_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<'waited'>((resolve) => (timer = setTimeout(() => resolve('waited'), waitMs)));
  try {
    if ((await Promise.race([worker.terminate(), waited])) === 'waited')
      log.warn(`a worker thread's end was not reported within ${waitMs / 1000} s; going on without it`);
  } finally {
    clearTimeout(timer);
  }
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
