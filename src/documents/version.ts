/**
 * Bumped when a reader's output changes: documents are then read and embedded again (apart from
 * read.ts, which loads every reader's dependencies). 3: a document's identity (`hash`) covers its
 * format, so an index whose texts were shared by the same bytes read as two formats is rebuilt.
 */
export const READER_VERSION = 3;
