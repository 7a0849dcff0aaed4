/**
 * The index lock (`index/LOCK`) under races between processes: exactly one of several builds
 * starting at once holds it, whether the folder had no lock or a stale one; a lock file whose
 * content is not (yet) readable is never taken over while fresh; release removes only our own lock.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexError } from '../src/index/layout.js';
import { lockIndex } from '../src/index/lock.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const RACERS = 3;
const TRIALS = 100;
/** A pid above any pid_max: its holder certainly does not run. */
const DEAD = '4194399 12345';

type Reply = { ready?: boolean; armed?: boolean; held?: boolean; error?: string; released?: boolean };

class Racer {
  private replies: Reply[] = [];
  private waiting: ((r: Reply) => void) | undefined;
  constructor(readonly child: ChildProcess) {
    child.on('message', (r: Reply) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(r);
      } else this.replies.push(r);
    });
  }
  next(): Promise<Reply> {
    const r = this.replies.shift();
    return r ? Promise.resolve(r) : new Promise((resolve) => (this.waiting = resolve));
  }
  send(m: object): void {
    this.child.send(m);
  }
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'cite-lock-'));
let racers: Racer[] = [];

beforeAll(async () => {
  racers = Array.from(
    { length: RACERS },
    () =>
      new Racer(
        fork(path.join(import.meta.dirname, 'support/lockRacer.ts'), { execArgv: ['--import', TSX], stdio: 'ignore' }),
      ),
  );
  await Promise.all(racers.map((r) => r.next()));
}, 60_000);
afterAll(() => {
  for (const r of racers) r.child.kill();
  rmSync(tmp, { recursive: true, force: true });
});

/** All racers try at once; holders keep the lock until every racer has answered. Returns how many got it. */
async function race(dir: string): Promise<number> {
  const go = `${dir}.go`;
  for (const r of racers) r.send({ take: dir, go });
  await Promise.all(racers.map((r) => r.next()));
  writeFileSync(go, '');
  const replies = await Promise.all(racers.map((r) => r.next()));
  for (const r of replies) if (!r.held) expect(r.error).toMatch(/Another index build/);
  for (const r of racers) r.send({ release: true });
  await Promise.all(racers.map((r) => r.next()));
  return replies.filter((r) => r.held).length;
}

describe('the index lock under racing processes', () => {
  it(`exactly one of ${RACERS} processes starting at once gets it, with no lock or a stale one, in every one of ${TRIALS} trials`, async () => {
    const holders: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const dir = path.join(tmp, `race-${trial}`);
      if (trial % 2 === 1) {
        mkdirSync(dir);
        writeFileSync(path.join(dir, 'LOCK'), DEAD); // left by a killed build
      }
      holders.push(await race(dir));
      expect(existsSync(path.join(dir, 'LOCK'))).toBe(false); // released by its holder
    }
    const wrong = (kind: number) => holders.filter((n, trial) => trial % 2 === kind && n !== 1).length;
    expect({
      'trials with no lock where not exactly one held it': wrong(0),
      'trials with a stale lock where not exactly one held it': wrong(1),
    }).toEqual({
      'trials with no lock where not exactly one held it': 0,
      'trials with a stale lock where not exactly one held it': 0,
    });
  }, 120_000);
});

describe('the lock file itself', () => {
  const fresh = (name: string) => {
    const dir = path.join(tmp, name);
    mkdirSync(dir);
    return { dir, lock: path.join(dir, 'LOCK') };
  };
  const busy = (dir: string) => {
    try {
      lockIndex(dir)();
    } catch (err) {
      return err instanceof IndexError && err.kind === 'busy';
    }
    return false;
  };

  it('an empty LOCK (created, content not written yet) is not taken over while fresh: its writer may be alive', () => {
    for (const content of ['', ' \n']) {
      const { dir, lock } = fresh(`partial-${content.length}`);
      writeFileSync(lock, content); // created, its content not (all) written yet
      expect(busy(dir)).toBe(true);
      expect(readFileSync(lock, 'utf8')).toBe(content);
    }
  });

  it('an empty LOCK left long ago (by a build killed while creating it) is taken over', () => {
    const { dir, lock } = fresh('empty-old');
    writeFileSync(lock, '');
    const longAgo = new Date(Date.now() - 3600_000);
    utimesSync(lock, longAgo, longAgo);
    expect(busy(dir)).toBe(false);
    expect(existsSync(lock)).toBe(false);
  });

  it('the lock is written whole: a reader never sees it without its holder', () => {
    const { dir, lock } = fresh('whole');
    const release = lockIndex(dir);
    expect(readFileSync(lock, 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    release();
    expect(existsSync(lock)).toBe(false);
  });

  it('release removes only our own lock: one taken over meanwhile by another build is left alone', () => {
    const { dir, lock } = fresh('ours');
    const release = lockIndex(dir);
    writeFileSync(lock, `${process.ppid}`); // another, live build now holds it
    release();
    expect(readFileSync(lock, 'utf8')).toBe(`${process.ppid}`);
    expect(busy(dir)).toBe(true);
  });
});
