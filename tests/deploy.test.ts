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
import { MAX_BODY_BYTES } from '../src/telegram/delivery/webhook.js';
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
    expect(install).toMatch(/^ONNXRUNTIME_NODE_INSTALL=skip npm ci\b/);
    expect(
      read('.ci/run')
        .split('\n')
        .filter((l) => /\bnpm (ci|install)\b/.test(l) && !l.startsWith('#')),
    ).toEqual([install]);
    const index = /\n {2}index:\n(?: {4}.*\n)*? {4}command: sh -c '([^']+)'/.exec(read('deploy/compose.yaml'))![1]!;
    // node:20 ships npm 10: the same command works there (the switch is in the environment).
    expect(index.split(' && ')).toEqual([install, 'npm run index']);
    expect(read('deploy/cite.service')).toContain("the README's install command");
  });

  it('keeps onnxruntime-node from downloading CUDA with npm 10 and npm 11, without a warning on every npm run', () => {
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false); // npm 11: its install script never runs
    expect(pkg.engines.npm).toBeUndefined(); // npm 10 (Node 20's) is not refused
    // npm 10 runs the script: it must decide "skip" from the install command's environment.
    const utils = path.join(REPO, 'node_modules/onnxruntime-node/script/install-utils.js');
    const decide = (env: Record<string, string>) =>
      execFileSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(utils)}).parseInstallFlag())`], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH!, ...env },
      }).trim();
    const [name, value] = readmeInstall().split(' ')[0]!.split('=');
    expect(decide({ [name!]: value! })).toBe('false'); // skip
    expect(decide({})).toBe('undefined'); // without it: the download would be tried
    // No project config npm does not know (an unknown key warns on every command).
    const got = spawnSync('npm', ['config', 'get', 'fund'], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, npm_config_loglevel: 'warn' },
    });
    expect(got.stderr).not.toMatch(/warn/i);
    // This install left the CUDA provider out.
    if (process.platform === 'linux' && process.arch === 'x64') {
      const bin = path.join(REPO, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64');
      expect(existsSync(path.join(bin, 'libonnxruntime.so.1'))).toBe(true);
      expect(existsSync(path.join(bin, 'libonnxruntime_providers_cuda.so'))).toBe(false);
    }
  });

  it("compiles hnswlib-node for this CPU's vector instructions (its default build leaves the distance code at SSE)", () => {
    expect(pkg.scripts.postinstall).toBe('node scripts/hnswlib.mjs');
    const cpu = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
    const flags = /^flags\s*:(.*)$/m.exec(cpu)?.[1]?.trim().split(/\s+/) ?? [];
    if (process.arch !== 'x64' || !flags.includes('avx2') || !flags.includes('fma')) return; // the default build stays
    const built = readFileSync(path.join(REPO, 'node_modules/hnswlib-node/build/cite-flags'), 'utf8');
    expect(built.split(' ')).toEqual(['-mavx2', '-mfma', ...(flags.includes('avx512f') ? ['-mavx512f'] : [])]);
    // The addon holds AVX code: hnswlib compiles it only under these flags.
    const addon = readFileSync(path.join(REPO, 'node_modules/hnswlib-node/build/Release/addon.node'));
    expect(addon.includes(Buffer.from('InnerProductSIMD16ExtAVX'))).toBe(true);
  });
});

describe('deploy/compose.yaml and nginx.conf', () => {
  const compose = read('deploy/compose.yaml');
  const nginx = read('deploy/nginx.conf');

  it('mounts the documents folder writable where the bot looks for it', () => {
    const workdir = /working_dir: (\S+)/.exec(compose)![1]!;
    const volumes = /volumes: \[([^\]]+)\]/
      .exec(compose)![1]!
      .split(',')
      .map((v) => v.trim().replace(/'/g, ''));
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
    expect(value('ReadWritePaths')!.split(' ').sort()).toEqual(
      [defaults.SEEDS_DIR, defaults.INDEX_DIR, defaults.EMBED_CACHE_DIR].map((d) => path.posix.join(dir, d)).sort(),
    );
    expect(value('Restart')).toBe('on-failure');
  });
});
