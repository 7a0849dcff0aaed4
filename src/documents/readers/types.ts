/** One block of a document as its format structures it: a paragraph, heading, list item or table cell. */
export interface Block {
  text: string;
  /** The page it starts on (paged formats: PDF), from 1. */
  page?: number;
  heading?: boolean;
}

/** What a reader makes of a file: its blocks in reading order, and the title if the format names one. */
export interface Extracted {
  blocks: Block[];
  title?: string;
  /** Something the administrator should know about how it was read (e.g. the encoding assumed). */
  note?: string;
}

/** The file cannot be read as a document; the message is the reason shown in the build summary. */
export class Unreadable extends Error {}

/**
 * What one document may cost to read (settings DOC_*): a document over any of them is skipped with
 * the reason, the rest of the build goes on. The memory and time limits are enforced by reading in
 * a worker thread (documents/isolated.ts), the others by the readers themselves.
 */
export interface ReadLimits {
  /** Files larger than this are not read (DOC_MAX_BYTES). */
  maxBytes: number;
  /** A container (DOCX) may unpack to at most this many bytes in all (DOC_MAX_UNPACKED_BYTES). */
  maxUnpackedBytes: number;
  /** At most this many characters of text may come out of one document (DOC_MAX_TEXT_CHARS). */
  maxTextChars: number;
  /** Reading one document may take at most this long (DOC_READ_SECONDS, in ms here). */
  timeoutMs: number;
  /** The reading worker's JavaScript heap (DOC_READ_MEMORY_MB); twice this, the process's growth while one is read. */
  memoryMb: number;
}

/** The settings' defaults (src/config.ts): what an unconfigured caller (tests, the bench) reads with. */
export const DEFAULT_READ_LIMITS: ReadLimits = {
  maxBytes: 2_000_000,
  maxUnpackedBytes: 20 * 1024 * 1024,
  maxTextChars: 4_000_000,
  timeoutMs: 60_000,
  memoryMb: 512,
};
