/**
 * Bumped when a reader's output changes: documents are then read and embedded again (apart from
 * read.ts, which loads every reader's dependencies). Not bumped when a document's identity (`hash`)
 * came to cover its format (2026-12-07): re-embedding every collection for the rare same bytes read
 * as two formats was not worth it. A document not read again keeps the identity of its bytes alone,
 * which still tells contents apart within one format; one read again takes the new identity, so a
 * .txt renamed .md is read anew.
 */
export const READER_VERSION = 2;

/**
 * Bumped when the readers read files they used to skip: an index's skipped files are then tried
 * again once, without reading or embedding the others again (part of `readingKey`).
 * 1: lone CR line ends (classic Mac) are line ends (such a file was "only a title").
 */
export const SKIP_RULES_VERSION = 1;
