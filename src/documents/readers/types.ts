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

/** Reading limits, from the settings. */
export interface ReadLimits {
  /** Files larger than this are not read (DOC_MAX_BYTES). */
  maxBytes: number;
}
