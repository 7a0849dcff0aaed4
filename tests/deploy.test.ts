/**
 * The deployment files and the install (issue 19 items 15, 16), checked against the code and the
 * README: one install command everywhere, with an npm that keeps onnxruntime-node from
 * downloading CUDA; the documents folder writable; nginx's retry of a POST (safe: webhook updates
 * are claimed once); the systemd unit's paths and stop timeout.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { MAX_BODY_BYTES } from '../src/telegram/webhook.js';
import { REPO } from './support/testModel.js';

const read = (file: string) => readFileSync(path.join(REPO, file), 'utf8');
const pkg = JSON.parse(read('package.json'));
const defaults = loadConfig({});

/** The README's install command: the first command of the quick start's first line. */
function readmeInstall(): string {
  const block = /## Quick start\s+```sh\n([^\n]+)/.exec(read('README.md'))![1]!;
  return block.split('&&')[0]!.trim();
}

describe('the install', () => {
  it('is one command in the README, CI, the compose file (and the systemd notes point to it)', () => {
    const install = readmeInstall();
    expect(install).toMatch(/^npm ci\b/);
    expect(read('.ci/run').split('\n').filter((l) => /^npm (ci|install)\b/.test(l))).toEqual([install]);
    const index = /\n {2}index:\n(?: {4}.*\n)*? {4}command: sh -c '([^']+)'/.exec(read('deploy/compose.yaml'))![1]!;
    // node:20 ships npm 10: npm 11 first, then exactly the README's command.
    expect(index.split(' && ')).toEqual(['npm install -g npm@11', install, 'npm run index']);
    expect(read('deploy/cite.service')).toContain("the README's install command");
  });

  it('needs npm 11 (which honours allowScripts) and refuses npm 10 before installing anything, without a warning on every npm run', () => {
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false); // npm 11: its CUDA download never runs
    expect(pkg.engines.npm).toBe('>=11');
    const npmrc = read('.npmrc').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(npmrc).toEqual(['engine-strict=true']); // npm 10 then stops with EBADENGINE
    // A known setting: npm reads it and warns about nothing (an unknown key warned on every command).
    const got = spawnSync('npm', ['config', 'get', 'engine-strict'], { cwd: REPO, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'warn' } });
    expect(got.stdout.trim()).toBe('true');
    expect(got.stderr).not.toMatch(/warn/i);
    // This install (npm 11) left the CUDA provider out.
    if (process.platform === 'linux' && process.arch === 'x64') {
      const bin = path.join(REPO, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64');
      expect(existsSync(path.join(bin, 'libonnxruntime.so.1'))).toBe(true);
      expect(existsSync(path.join(bin, 'libonnxruntime_providers_cuda.so'))).toBe(false);
    }
    const npmMajor = Number(execFileSync('npm', ['--version'], { encoding: 'utf8' }).split('.')[0]);
    expect(npmMajor).toBeGreaterThanOrEqual(11);
  });
});

describe('deploy/compose.yaml and nginx.conf', () => {
  const compose = read('deploy/compose.yaml');
  const nginx = read('deploy/nginx.conf');

  it('mounts the documents folder writable where the bot looks for it', () => {
    const workdir = /working_dir: (\S+)/.exec(compose)![1]!;
    const volumes = /volumes: \[([^\]]+)\]/.exec(compose)![1]!.split(',').map((v) => v.trim().replace(/'/g, ''));
    const seeds = volumes.find((v) => v.startsWith('../seeds:'))!;
    expect(seeds.split(':')[1]).toBe(path.posix.join(workdir, defaults.SEEDS_DIR)); // uploads and /remove write there
    expect(seeds.split(':')[2]).toBeUndefined(); // not :ro
    expect(volumes).toContain(`models:${path.posix.join(workdir, defaults.EMBED_CACHE_DIR)}`);
  });

  it('points the replicas at the database and the balancer at the replicas', () => {
    const db = /POSTGRES_USER: (\w+), POSTGRES_PASSWORD: (\w+), POSTGRES_DB: (\w+)/.exec(compose)!;
    expect(compose).toContain(`DATABASE_URL: postgres://${db[1]}:${db[2]}@db:5432/${db[3]}`);
    const port = /PORT: '(\d+)'/.exec(compose)![1]!;
    const replicas = [...compose.matchAll(/\n {2}(replica\d+):\n/g)].map((m) => m[1]);
    expect(replicas.length).toBeGreaterThanOrEqual(2);
    const upstream = [...nginx.matchAll(/server (\S+) max_fails/g)].map((m) => m[1]);
    expect(upstream).toEqual(replicas.map((r) => `${r}:${port}`));
    expect(compose.match(new RegExp(`127\\.0\\.0\\.1:${port}/healthz`, 'g'))).toHaveLength(replicas.length);
  });

  it('lets nginx retry a POST on the other replica (updates are claimed once) and caps bodies like the replicas', () => {
    const retry = /proxy_next_upstream ([^;]+);/.exec(nginx)![1]!.split(/\s+/);
    expect(retry).toEqual(expect.arrayContaining(['error', 'timeout', 'http_503', 'non_idempotent']));
    const cap = /client_max_body_size (\d+)m;/.exec(nginx)![1]!;
    expect(Number(cap) * 1024 * 1024).toBe(MAX_BODY_BYTES);
  });
});

describe('deploy/cite.service', () => {
  const unit = read('deploy/cite.service');
  const value = (key: string) => new RegExp(`^${key}=(.+)$`, 'm').exec(unit)?.[1];

  it("runs the start script's command with node, stops after the shutdown grace, may write only its folders", () => {
    expect(value('ExecStart')).toBe(`/usr/bin/${pkg.scripts.start}`);
    expect(value('KillSignal')).toBe('SIGTERM');
    expect(Number(value('TimeoutStopSec'))).toBeGreaterThan(defaults.SHUTDOWN_GRACE_SECONDS + 5);
    const dir = value('WorkingDirectory')!;
    expect(value('EnvironmentFile')).toBe(path.posix.join(dir, '.env'));
    expect(value('ReadWritePaths')!.split(' ').sort()).toEqual([defaults.SEEDS_DIR, defaults.INDEX_DIR, defaults.EMBED_CACHE_DIR].map((d) => path.posix.join(dir, d)).sort());
    expect(value('Restart')).toBe('on-failure');
  });
});
