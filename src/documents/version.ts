/** Bumped when a reader's output changes: documents are then read and embedded again (apart from read.ts, which loads every reader's dependencies). */
export const READER_VERSION = 2;
