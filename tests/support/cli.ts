import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll } from 'vitest';
import { REPO } from './testModel.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Settings a developer's shell or .env might carry: none of them leak into the children. */
const CONFIG_VARS =
  /^(TELEGRAM_|ADMIN_IDS$|ALLOWED_|SEEDS_DIR$|DOC_|INDEX_DIR$|EMBED_|QUERY_PREFIX$|PASSAGE_PREFIX$|HNSW_|EXACT_SEARCH_MAX$|TOP_K$|DENSE_THRESHOLD$|LEXICAL_THRESHOLD$|MAX_QUESTION_CHARS$|RATE_LIMIT_PER_MINUTE$|DELIVERY_|SHUTDOWN_|LOG_LEVEL$|DATABASE_URL$|WEBHOOK_|PORT$)/;

/** This process's environment without any of the project's settings. */
export const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !CONFIG_VARS.test(k)));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts `src/cli/<script>` as `npm run <script>` does (node + the tsx loader), in `cwd`. */
export function startCli(script: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', TSX, path.join(REPO, 'src/cli', script), ...args], {
    cwd,
    env: { ...cleanEnv(), LOG_LEVEL: 'silent', EMBED_ALLOW_DOWNLOAD: 'false', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('close', () => children.delete(child));
  return child;
}

/** Runs a command to its end with `input` on stdin. */
export function runCli(
  script: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  input = '',
): Promise<Run> {
  return collect(startCli(script, args, env, cwd), input);
}

/** Feeds `input` to a child and resolves with its exit code and output once it is gone (stopped when the file ends). */
export function collect(child: ChildProcess, input: string): Promise<Run> {
  children.add(child);
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(input);
  });
}
