import { createHash, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { IndexError } from './layout.js';
import { shownPath } from '../paths.js';

/**
 * One build at a time per index folder: two would delete each other's build folders. The lock
 * file names its holder (pid and, on Linux, the process's start time, since pids are reused, plus
 * a random token that makes it ours alone); a lock whose holder is gone — exited, killed, or a
 * zombie waiting to be reaped — is taken over. Returns the function that releases it.
 *
 * Every step is atomic, so racing builds never both hold it (tests/lock.test.ts):
 * - creating: the content is written to a temporary file first, then hard-linked to LOCK, which
 *   fails if LOCK exists; a reader never sees a LOCK without its holder;
 * - taking over a stale lock: only the process that first claims that very lock content (a claim
 *   file, itself created the same way) replaces it, after checking it is still the stale one;
 * - releasing: only a LOCK that still holds our content is removed.
 */
export function lockIndex(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, 'LOCK');
  const me = `${process.pid} ${processStartTime(process.pid) ?? '-'} ${randomBytes(6).toString('hex')}`;
  // The message reaches the admin's chat (/reindex, uploads): the folder as shownPath shows it, never its absolute path.
  const busy = (pid: string | undefined) =>
    new IndexError(
      `Another index build${pid ? ` (process ${pid})` : ''} is writing ${shownPath(dir)}; wait for it to finish ` +
        `(if no build is running, delete LOCK in ${shownPath(dir)}).`,
      'busy',
    );
  acquire(lock, me, busy);
  return () => releaseIfOurs(lock, me);
}

/**
 * A LOCK whose content cannot be read as a holder is taken over only when older than this: it can
 * only come from an older version, which created LOCK empty and wrote its content after.
 */
const UNREADABLE_GRACE_MS = 10_000;
/** Rounds of "create, or take over a stale one" before giving up (each lost round means another process won). */
const ATTEMPTS = 5;

function acquire(slot: string, me: string, busy: (pid: string | undefined) => IndexError): void {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (createWhole(slot, me)) return;
    const held = readIfExists(slot);
    if (held === undefined) continue; // released meanwhile: try to create it again
    const holder = parseHolder(held);
    if (holder ? holderRuns(holder.pid, holder.started) : ageMs(slot) < UNREADABLE_GRACE_MS)
      throw busy(holder ? String(holder.pid) : undefined);
    if (takeOver(slot, held, me, busy)) return;
  }
  throw busy(undefined);
}

/** Creates `slot` with its full content, atomically; false if it exists. */
function createWhole(slot: string, me: string): boolean {
  const tmp = `${slot}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, me);
  try {
    linkSync(tmp, slot);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Replaces the stale `slot` (content `stale`) by ours. The claim is named after the stale content,
 * so of all processes that found this same stale lock exactly one replaces it; one that claims it
 * later finds the content changed and backs off. A claim left by a claimer killed in between is
 * itself stale and taken over the same way.
 */
function takeOver(slot: string, stale: string, me: string, busy: (pid: string | undefined) => IndexError): boolean {
  const claim = `${slot}.claim-${createHash('sha256').update(stale).digest('hex').slice(0, 16)}`;
  acquire(claim, me, busy);
  try {
    if (readIfExists(slot) !== stale) return false;
    const tmp = `${slot}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, me);
    renameSync(tmp, slot);
    return true;
  } finally {
    releaseIfOurs(claim, me);
  }
}

function releaseIfOurs(slot: string, me: string): void {
  if (readIfExists(slot) === me) rmSync(slot, { force: true });
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return Infinity;
  }
}

/** "pid [start time|-] [token]"; undefined when it names no process (empty, or partly written). */
function parseHolder(content: string): { pid: number; started: string | undefined } | undefined {
  const [pid, started] = content.trim().split(' ');
  if (!pid || !/^\d+$/.test(pid) || Number(pid) <= 0) return undefined;
  return { pid: Number(pid), started: started === '-' ? undefined : started };
}

/** The process's start time (clock ticks since boot) from /proc, or undefined where there is no /proc. */
function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/** Fields of /proc/PID/stat after the command name (state first), or undefined. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function holderRuns(pid: number, started: string | undefined): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (existsSync('/proc/self/stat')) {
    const stat = procStat(pid);
    if (!stat) return false; // no such process
    if (stat[0] === 'Z' || stat[0] === 'X') return false; // killed, not yet reaped: it writes nothing more
    return started === undefined || stat[19] === started; // same pid, another process: the holder is gone
  }
  try {
    process.kill(pid, 0); // signal 0: only checks that the process exists
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
