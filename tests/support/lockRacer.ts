/**
 * A process that tries to take an index lock when told to (`{ take: dir, go: file }`: it spins until
 * `go` exists, so that all racers start within microseconds), holds it until told to release it
 * (`{ release: true }`), and reports each outcome: the other side of the lock race test.
 */
import { existsSync } from 'node:fs';
import { lockIndex } from '../../src/index/lock.js';

let release: (() => void) | undefined;

process.on('message', (m: { take?: string; go?: string; release?: boolean }) => {
  if (m.take) {
    process.send!({ armed: true });
    while (!existsSync(m.go!)); // the parent creates it once every racer is armed
    try {
      release = lockIndex(m.take);
      process.send!({ held: true });
    } catch (err) {
      process.send!({ held: false, error: (err as Error).message });
    }
  } else if (m.release) {
    release?.();
    release = undefined;
    process.send!({ released: true });
  }
});
process.send!({ ready: true });
