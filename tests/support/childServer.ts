/**
 * An HTTP server in a child process, for requests that used to kill the process (a throw in a
 * request listener is uncaught): the test sees the child's exit rather than losing its own worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { afterAll } from 'vitest';
import { REPO } from './testModel.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

export interface ChildServer {
  port: number;
  /** Resolves with the exit code (or signal) once the child has exited. */
  exited: Promise<number | string | null>;
  stderr: () => string;
  stop: () => Promise<unknown>;
}

/**
 * Runs `script` (an ES module run from the repository; it may import `./src/….ts`), which starts a
 * server and writes `PORT <n>` on stdout once it listens.
 */
export async function childServer(script: string, env: Record<string, string> = {}): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => (children.delete(child), resolve(code ?? signal))),
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const m = /PORT (\d+)/.exec((out += d));
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`the server exited (${code}) before listening: ${stderr}`)));
  });
  return { port, exited, stderr: () => stderr, stop: () => (child.kill(), exited) };
}

/** Writes `request` as is on a new connection; resolves with all the server answered once it closes. */
export function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    socket.setEncoding('utf8').on('data', (d: string) => (answer += d));
    socket.on('error', () => {}); // a reset still ends in 'close'
    socket.on('close', () => resolve(answer));
  });
}
