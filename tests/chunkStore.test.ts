import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChunkStore } from '../src/index/chunkStore.js';
import { tempDirs } from './support/testModel.js';

describe('ChunkStore.rewrite', () => {
  const lines = ['{"a":0}', '', '{"a":2}', '{"a":3}', '{"a":4}'];
  const store = ChunkStore.parse(ChunkStore.serialize(lines));

  it('is the file with those lines replaced and those appended, as serializing every line gives', () => {
    const replaced = new Map([
      [3, ''],
      [0, '{"a":"zero"}'],
      [4, '{"a":"four"}'],
    ]);
    const expected = ChunkStore.serialize([...lines.map((l, i) => replaced.get(i) ?? l), '{"a":5}', '{"a":6}']);
    expect(store.rewrite(replaced, ['{"a":5}', '{"a":6}']).equals(expected)).toBe(true);
    expect(store.rewrite(new Map(), []).equals(ChunkStore.serialize(lines))).toBe(true);
    expect(ChunkStore.parse(store.rewrite(new Map([[2, '']]), [])).has(2)).toBe(false);
  });

  it('refuses a label beyond the file', () => {
    expect(() => store.rewrite(new Map([[5, '']]), [])).toThrow('label 5');
  });
});

describe('ChunkStore with a tail', () => {
  const base = ChunkStore.parse(ChunkStore.serialize(['{"a":0}', '{"a":1}', '{"a":2}']));
  const tail = ChunkStore.serializeTail(
    new Map([
      [4, '{"a":4}'],
      [1, ''],
      [3, '{"a":3}'],
      [0, '{"a":"zero"}'],
    ]),
  );

  it('reads the tail over the base: changed, emptied and added labels', () => {
    const store = base.withTail(tail, 5);
    expect(store.labels).toBe(5);
    expect(store.baseLabels).toBe(3);
    expect([...store.entries()].map(([l, c]) => [l, (c as unknown as { a: unknown }).a])).toEqual([
      [0, 'zero'],
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    expect([store.has(1), store.has(5), store.liveCount()]).toEqual([false, false, 4]);
    expect(store.base().labels).toBe(3); // what a replacing index shares: the same bytes, no tail
  });

  it('folds into one file equal to its lines written out, with more lines replaced and appended', () => {
    const store = base.withTail(tail, 5);
    const folded = ChunkStore.parse(store.rewrite(new Map([[3, '']]), ['{"a":5}']));
    expect(folded.labels).toBe(6);
    expect(Array.from({ length: 6 }, (_, l) => folded.raw(l).toString())).toEqual([
      '{"a":"zero"}',
      '',
      '{"a":2}',
      '',
      '{"a":4}',
      '{"a":5}',
    ]);
  });

  it('refuses a tail with a bad label, a malformed line, or without a line for each label after the base', () => {
    expect(() => base.withTail(tail, 4)).toThrow('bad label');
    expect(() => base.withTail(Buffer.from('x{"a":1}\n'), 3)).toThrow('malformed');
    expect(() => base.withTail(ChunkStore.serializeTail(new Map([[4, '{}']])), 5)).toThrow('lacks label 3');
  });
});

describe('ChunkStore.open (the live index: lines read where they lie)', () => {
  const tmp = tempDirs('cite-chunkstore-');
  const lines = ['{"a":0}', '', '{"a":"ü ğ — ¶"}', '{"a":3}'];
  const fileOf = (bytes: Buffer) => {
    const file = path.join(tmp(), 'chunks.jsonl');
    writeFileSync(file, bytes);
    return file;
  };

  it('reads the same lines as the file parsed in memory, with a tail over them', () => {
    const bytes = ChunkStore.serialize(lines);
    const [opened, parsed] = [ChunkStore.open(fileOf(bytes)), ChunkStore.parse(bytes)];
    expect(opened.labels).toBe(4);
    expect(Array.from({ length: 4 }, (_, l) => opened.raw(l).toString())).toEqual(lines);
    expect([...opened.entries()]).toEqual([...parsed.entries()]);
    const tail = ChunkStore.serializeTail(
      new Map([
        [1, '{"a":1}'],
        [4, '{"a":4}'],
      ]),
    );
    expect(opened.withTail(tail, 5).list()).toEqual(parsed.withTail(tail, 5).list());
    expect(
      opened.rewrite(new Map([[0, '']]), ['{"a":5}']).equals(parsed.rewrite(new Map([[0, '']]), ['{"a":5}'])),
    ).toBe(true);
  });

  it('finds lines across its read pieces (1 MiB) and in an empty file', () => {
    const long = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ i, text: 'x'.repeat(i % 997) }));
    const opened = ChunkStore.open(fileOf(ChunkStore.serialize(long)));
    expect(opened.labels).toBe(3000);
    expect(Array.from({ length: 3000 }, (_, l) => opened.raw(l).toString())).toEqual(long);
    expect(ChunkStore.open(fileOf(Buffer.alloc(0))).labels).toBe(0);
  });

  it('refuses a file whose last line is not terminated', () => {
    expect(() => ChunkStore.open(fileOf(Buffer.from('{"a":0}\n{"a":1}')))).toThrow('not terminated');
  });

  it('keeps reading after its build folder is removed (an index replaced while a question is answered)', () => {
    const file = fileOf(ChunkStore.serialize(lines));
    const opened = ChunkStore.open(file);
    rmSync(path.dirname(file), { recursive: true });
    expect(opened.get(3)).toEqual({ a: 3 });
  });
});
