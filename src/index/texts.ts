import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SourceDocument } from '../documents/load.js';

/*
 * The documents' extracted texts, stored with each build so that anyone can check a quote:
 * `<build>/texts/<sha256 of the file>.txt` holds the text that chunk offsets (`start`/`end`) point
 * into (`npm run -s text -- <doc>` prints it). Named by content, so a renamed or copied document
 * shares its text; a build writes the texts of the documents it read and hard-links the others'
 * from the previous build.
 */
const FOLDER = 'texts';

const textFile = (build: string, hash: string) => path.join(build, FOLDER, `${hash}.txt`);

/** Writes the texts of a new build: those of the documents read now, the others taken from the previous build. */
export function writeTexts(build: string, previousBuild: string | undefined, hashes: string[], read: SourceDocument[]): void {
  mkdirSync(path.join(build, FOLDER), { recursive: true });
  const fresh = new Map(read.map((d) => [d.hash, d.source]));
  for (const hash of new Set(hashes)) {
    const target = textFile(build, hash);
    const text = fresh.get(hash);
    if (text !== undefined) writeFileSync(target, text);
    else if (previousBuild && existsSync(textFile(previousBuild, hash))) linkOrCopy(textFile(previousBuild, hash), target);
  }
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** The stored text of a document of a build, if the build has it. */
export function readText(build: string, hash: string): string | undefined {
  const file = textFile(build, hash);
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/**
 * The text a document's references point into, as the live build stored it; undefined when the
 * document is not in the index (or the build predates stored texts).
 */
export function liveText(file: string, live: { build: string; manifest: { documents: { file: string; hash: string }[] } }): string | undefined {
  const doc = live.manifest.documents.find((d) => d.file === file);
  return doc && readText(live.build, doc.hash);
}
