import { describe, expect, it } from 'vitest';
import { ChunkStore } from '../src/index/chunkStore.js';

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
