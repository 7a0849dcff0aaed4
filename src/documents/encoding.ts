import iconv from 'iconv-lite';
import jschardet from 'jschardet';

export interface Decoded {
  text: string;
  /** The legacy encoding assumed when the bytes are not Unicode (undefined for UTF-8/UTF-16). */
  encoding?: string;
  /** UTF-8 with this many invalid byte sequences, each read as U+FFFD (a file cut off, a stray byte). */
  invalid?: number;
}

/** Cyrillic single-byte encodings the detector recognises with enough certainty to trust its pick. */
const CYRILLIC = new Set(['windows-1251', 'koi8-r', 'ibm866', 'iso-8859-5', 'maccyrillic']);

/**
 * The text of a file: UTF-8, UTF-16 with a byte-order mark (Windows Notepad's "Unicode"), or a
 * legacy single-byte encoding (Windows-1251/1252/1254, KOI8-R, ISO-8859-9) detected from the bytes.
 * A BOM is replaced by spaces of the same length in code units, so offsets stay those of the text.
 * Undefined for binary data (NUL bytes).
 */
export function decodeText(bytes: Uint8Array): Decoded | undefined {
  const utf16 =
    bytes[0] === 0xff && bytes[1] === 0xfe
      ? 'utf-16le'
      : bytes[0] === 0xfe && bytes[1] === 0xff
        ? 'utf-16be'
        : undefined;
  try {
    if (utf16) return { text: ' ' + new TextDecoder(utf16, { fatal: true, ignoreBOM: true }).decode(bytes).slice(1) };
  } catch {
    return undefined;
  }
  if (bytes.includes(0)) return undefined;
  try {
    return { text: utf8(bytes, true) };
  } catch {
    const damaged = damagedUtf8(bytes);
    if (damaged) return damaged;
    const encoding = legacyEncoding(bytes);
    return { text: iconv.decode(Buffer.from(bytes), encoding), encoding };
  }
}

/**
 * UTF-8 with a few bad bytes (a file cut off inside a character, a stray byte pasted in), read as
 * UTF-8 with U+FFFD for each bad sequence: as a legacy encoding every other letter of it was
 * mojibake. Legacy text hardly ever forms valid multi-byte sequences, so these must far outnumber
 * the bad ones. Each bad sequence gives one character, so offsets are those of the decoded text.
 */
function damagedUtf8(bytes: Uint8Array): Decoded | undefined {
  const text = utf8(bytes, false);
  const bad = text.match(/\uFFFD/g)?.length ?? 0;
  const good = text.match(/[^\x00-\x7f\uFFFD]/g)?.length ?? 0;
  if (good < bad * 10) return undefined;
  return { text, invalid: bad };
}

/**
 * UTF-8 bytes as text (`fatal`: throws on an invalid sequence, else reads it as U+FFFD). ignoreBOM
 * keeps a BOM in the text (by default TextDecoder strips it, shifting every offset by one against
 * the file as other tools read it); it is replaced by a space: same offsets, no BOM.
 */
function utf8(bytes: Uint8Array, fatal: boolean): string {
  const text = new TextDecoder('utf-8', { fatal, ignoreBOM: true }).decode(bytes);
  return text.startsWith('\uFEFF') ? ' ' + text.slice(1) : text;
}

/**
 * The single-byte encoding of text that is not UTF-8. Cyrillic ones are told apart by the detector;
 * otherwise Western (Windows-1252) unless the letters only make sense as Turkish: ı ş ğ İ Ş Ğ sit
 * where Windows-1252 has ý þ ð Ý Þ Ð, which Western European text hardly uses.
 */
function legacyEncoding(bytes: Uint8Array): string {
  const sample = Buffer.from(bytes.subarray(0, 64 * 1024));
  const guess = jschardet.detect(sample).encoding?.toLowerCase() ?? '';
  if (CYRILLIC.has(guess)) return guess;
  const western = iconv.decode(sample, 'windows-1252');
  const turkish = (western.match(/[ýþðÝÞÐ]/g) ?? []).length;
  return turkish > 0 && turkish >= (western.match(/[^\x00-\x7f]/g) ?? []).length * 0.2
    ? 'windows-1254'
    : 'windows-1252';
}
