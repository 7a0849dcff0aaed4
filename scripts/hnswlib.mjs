// Run by `npm ci` / `npm install` (the `postinstall` script): rebuilds hnswlib-node for the vector
// instructions of this machine's CPU. Its own install compiles it with node-gyp's default flags,
// which on x86-64 leave hnswlib's distance code at SSE: its AVX and AVX-512 code is compiled only
// when the compiler is told the CPU has them (and then still chosen by a CPU check at run time).
// Measured in docs/benchmark.md §7. Like hnswlib's own Python package (-march=native), the build
// is for the CPU it ran on: a node_modules folder moved to another machine needs `npm ci` there.
// `CITE_HNSW_BUILD=default npm ci` keeps the default build; a failed rebuild falls back to it.
// The flags used are written beside the addon (build/cite-flags), for the bench's machine line.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Compiler flags for the vector instructions this CPU has (none off x86-64 Linux, or without AVX2 and FMA). */
function vectorFlags() {
  if (process.arch !== 'x64' || !existsSync('/proc/cpuinfo')) return [];
  const line = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  const cpu = new Set(line.trim().split(/\s+/));
  if (!cpu.has('avx2') || !cpu.has('fma')) return [];
  return ['-mavx2', '-mfma', ...(cpu.has('avx512f') ? ['-mavx512f'] : [])];
}

/** `npm rebuild hnswlib-node` with the same npm that runs this install, and extra compiler flags. */
function rebuild(flags) {
  const [command, args] = process.env.npm_execpath
    ? [process.execPath, [process.env.npm_execpath]]
    : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
  const CXXFLAGS = [process.env.CXXFLAGS ?? '', ...flags].join(' ').trim();
  execFileSync(command, [...args, 'rebuild', 'hnswlib-node'], {
    cwd: root,
    env: { ...process.env, CXXFLAGS },
    stdio: 'ignore',
  });
}

/** The addon loads and finds a point (in a child process: an instruction the CPU lacks kills the child, not the install). */
function addonWorks() {
  const probe = `const { HierarchicalNSW } = require('hnswlib-node');
    const point = (i) => Array.from({ length: 32 }, (_, j) => Math.cos(i * 7 + j));
    const h = new HierarchicalNSW('cosine', 32); h.initIndex(4);
    for (let i = 0; i < 4; i++) h.addPoint(point(i), i);
    process.exit(h.searchKnn(point(2), 1).neighbors[0] === 2 ? 0 : 1);`;
  return spawnSync(process.execPath, ['-e', probe], { cwd: root, stdio: 'ignore' }).status === 0;
}

// node-gyp's rebuild empties build/, so the marker goes with every rebuild.
const marker = path.join(root, 'node_modules/hnswlib-node/build/cite-flags');
const flags = process.env.CITE_HNSW_BUILD === 'default' ? [] : vectorFlags();
if (flags.length > 0) {
  try {
    rebuild(flags);
    if (!addonWorks()) throw new Error('the rebuilt addon does not run here');
    writeFileSync(marker, flags.join(' '));
    console.log(`hnswlib-node rebuilt for this CPU (${flags.join(' ')})`);
  } catch (err) {
    console.warn(`hnswlib-node: the default build is kept (${err.message.split('\n')[0]})`);
    rebuild([]);
  }
} else if (existsSync(marker)) {
  rebuild([]); // an earlier install's build for this CPU, where the default is asked for now
}
