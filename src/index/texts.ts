import { existsSync } from 'node:fs';
import path from 'node:path';
import type { SourceDocument } from '../documents/load.js';
import { IndexError } from './layout.js';
import { readSealed } from './seals.js';
import type { Manifest } from './manifest.js';

/*
 * The documents' extracted texts, stored with each build so that anyone can check a quote:
 * `texts.jsonl` has one line per distinct document content, `{"hash","text"}`, holding the text
 * that chunk offsets (`start`/`end`) point into (`npm run -s text -- <doc>` prints it). Keyed by the
 * file's sha256, so a renamed or copied document shares its text. Checksummed like the other files;
 * not loaded to answer questions.
 */
export const TEXTS_FILE = 'texts.jsonl';

/** The texts file of a new build: the documents read now, the others' texts taken from the previous build. */
export function textsFile(previous: { build: string; manifest: Pick<Manifest, 'checksums'> } | undefined, hashes: string[], read: SourceDocument[]): Buffer {
  const texts = new Map(read.map((d) => [d.hash, d.source]));
  const missing = new Set(hashes.filter((h) => !texts.has(h)));
  if (missing.size > 0 && previous) {
    // Damage must not be carried over: a corrupt file makes the build start again from the documents.
    for (const [hash, text] of checkedTexts(previous)) if (missing.has(hash)) texts.set(hash, text);
  }
  const lines = [...new Set(hashes)].filter((h) => texts.has(h)).map((hash) => JSON.stringify({ hash, text: texts.get(hash) }) + '\n');
  return Buffer.from(lines.join(''));
}

/** The stored texts of a build by hash, checked against the manifest's checksum (none for builds that predate them). */
function checkedTexts({ build, manifest }: { build: string; manifest: Pick<Manifest, 'checksums'> }): Map<string, string> {
  const file = path.join(build, TEXTS_FILE);
  const out = new Map<string, string>();
  if (!existsSync(file) || manifest.checksums[TEXTS_FILE] === undefined) return out;
  const { data, sha256 } = readSealed(file);
  if (sha256 !== manifest.checksums[TEXTS_FILE]) throw new IndexError(`The index's ${TEXTS_FILE} does not match its checksum.`, 'corrupt');
  for (const line of data.toString('utf8').split('\n')) {
    if (!line) continue;
    const { hash, text } = JSON.parse(line) as { hash: string; text: string };
    out.set(hash, text);
  }
  return out;
}

/**
 * The text a document's references point into, as the live build stored it (checked against its
 * checksum); undefined when the document is not in the index or the build has no stored text.
 */
export function liveText(file: string, live: { build: string; manifest: Pick<Manifest, 'documents' | 'checksums'> }): string | undefined {
  const doc = live.manifest.documents.find((d) => d.file === file);
  return doc && checkedTexts(live).get(doc.hash);
}
