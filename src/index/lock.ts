import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { IndexError } from './layout.js';

/**
 * One build at a time per index folder: two would delete each other's build folders. The lock
 * file names its holder (pid and, on Linux, the process's start time, since pids are reused); a
 * lock whose holder is gone — exited, killed, or a zombie waiting to be reaped — is taken over.
 * Returns the function that releases it.
 */
export function lockIndex(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, 'LOCK');
  const me = `${process.pid} ${processStartTime(process.pid) ?? ''}`.trim();
  try {
    writeFileSync(lock, me, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const [pid, started] = readFileSync(lock, 'utf8').trim().split(' ');
    if (pid && holderRuns(Number(pid), started)) {
      throw new IndexError(
        `Another index build (process ${pid}) is writing ${path.resolve(dir)}; wait for it to finish ` +
          `(if no build is running, delete ${path.resolve(lock)}).`,
        'busy',
      );
    }
    writeFileSync(lock, me);
  }
  return () => rmSync(lock, { force: true });
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

