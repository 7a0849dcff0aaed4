import path from 'node:path';
import type { Manifest } from './manifest.js';

/**
 * One generation of the index, named as its store names it: a build folder of INDEX_DIR, or a
 * numbered generation of the PostgreSQL tables. Code outside the store compares generations
 * (`sameGeneration`) and shows them (`generationLabel`); only the store looks inside.
 */
export type Generation = { store: 'files'; folder: string } | { store: 'postgres'; number: number };

/** A generation with the manifest it was built with: one snapshot of the live index. */
export interface LiveGeneration {
  generation: Generation;
  manifest: Manifest;
}

export const buildFolder = (folder: string): Generation => ({ store: 'files', folder });
export const databaseGeneration = (number: number): Generation => ({ store: 'postgres', number });

export function sameGeneration(a: Generation, b: Generation): boolean {
  if (a.store === 'files') return b.store === 'files' && a.folder === b.folder;
  return b.store === 'postgres' && a.number === b.number;
}

/** How logs and reports name a generation: the build folder's own name (never a server path), or its number. */
export function generationLabel(g: Generation): string {
  return g.store === 'files' ? path.basename(g.folder) : `generation ${g.number}`;
}

/** The folder of a file-store generation (what the benchmark and the tests look inside). */
export function folderOf(g: Generation): string {
  if (g.store !== 'files') throw new Error(`${generationLabel(g)} is not a build folder`);
  return g.folder;
}
