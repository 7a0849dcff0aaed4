/**
 * An appended copy's sha256 continued from the hash state of the file it copies (src/index/appendable.ts):
 * the same digest as hashing the whole copy, and no copy at all when the state is not known.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendedCopy, knowsHash, rememberHash, rememberHashOf } from '../src/index/appendable.js';
import { sha256 } from '../src/index/layout.js';
import { tempDirs } from './support/testModel.js';

const tempDir = tempDirs('cite-appendable-');

describe('appended copies', () => {
  it('are hashed from the state of the file they copy: the digest of their whole content', async () => {
    const dir = tempDir();
    const first = path.join(dir, 'first.bin');
    writeFileSync(first, Buffer.alloc(3 << 20, 7)); // several pieces of the streamed hash
    const digest = await rememberHash(first);
    expect(digest).toBe(sha256(readFileSync(first)));
    const second = path.join(dir, 'second.bin');
    const tail = Buffer.from('the rows added');
    const next = appendedCopy(first, digest, tail, second);
    expect(readFileSync(second)).toEqual(Buffer.concat([readFileSync(first), tail]));
    expect(next).toBe(sha256(readFileSync(second)));
    // Its own state is kept in turn: the next copy continues from it.
    const third = path.join(dir, 'third.bin');
    expect(appendedCopy(second, next!, tail, third)).toBe(sha256(readFileSync(third)));
    expect(rememberHashOf(Buffer.from('bytes'))).toBe(sha256(Buffer.from('bytes')));
  });

  it('are not made from a file whose hash state is not known', () => {
    const dir = tempDir();
    const from = path.join(dir, 'from.bin');
    writeFileSync(from, 'never hashed here');
    const unknown = sha256(Buffer.from('never hashed here'));
    expect(knowsHash(unknown)).toBe(false);
    expect(appendedCopy(from, unknown, Buffer.from('x'), path.join(dir, 'to.bin'))).toBeUndefined();
    expect(existsSync(path.join(dir, 'to.bin'))).toBe(false);
  });
});
