import { inflateRawSync } from 'node:zlib';
import { DEFAULT_READ_LIMITS, Unreadable } from './types.js';
import { skipReason } from '../skips.js';

/** An entry of a zip file's central directory. */
interface Entry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/**
 * A container (DOCX, ODT, EPUB) may unpack to at most this much in all, unless told otherwise
 * (DOC_MAX_UNPACKED_BYTES): a zip bomb is refused before a library unpacks it.
 */
const MAX_UNPACKED_BYTES = DEFAULT_READ_LIMITS.maxUnpackedBytes;

/**
 * Checks a zip container before any library unpacks it: the sizes its directory declares must stay
 * under MAX_UNPACKED_BYTES, and every entry is inflated with that bound, so one that lies about its
 * size (a zip bomb) is caught after at most that much output, never unpacked in full.
 * Returns the unpacked entries by name.
 */
export function unpackBounded(bytes: Uint8Array, limit = MAX_UNPACKED_BYTES): Map<string, Buffer> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries = centralDirectory(buf);
  const declared = entries.reduce((n, e) => n + e.size, 0);
  if (declared > limit) throw new Unreadable(skipReason('unpacksTooMuch', { size: mb(declared), limit: mb(limit) }));
  const out = new Map<string, Buffer>();
  let total = 0;
  for (const entry of entries) {
    const data = entryData(buf, entry, limit - total);
    total += data.length;
    out.set(entry.name, data);
  }
  return out;
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

/**
 * The entries of the directory, as mammoth's zip library (JSZip) will see them, or refused: it reads
 * every header it finds there whatever count the end record declares, and it takes a directory that
 * does not end where the end record starts for one behind prepended bytes (all offsets shifted), and
 * a disk number for a ZIP64 directory. A DOCX (Word's or any writer's) is one disk, its directory
 * where the end record says: a container that is not hides entries from this check.
 */
function centralDirectory(buf: Buffer): Entry[] {
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0 || end + 22 > buf.length) throw new Unreadable(skipReason('zipNoDirectory'));
  const count = buf.readUInt16LE(end + 10);
  const size = buf.readUInt32LE(end + 12);
  let at = buf.readUInt32LE(end + 16);
  // A disk number, or a count at its maximum, sends the library to a ZIP64 record (which may be anywhere).
  const zip64 = buf.readUInt16LE(end + 4) !== 0 || buf.readUInt16LE(end + 6) !== 0 || count === 0xffff;
  if (zip64 || buf.readUInt16LE(end + 8) !== count || at + size !== end)
    throw new Unreadable(skipReason('zipBadDirectory'));
  const entries: Entry[] = [];
  while (at + 4 <= end && buf.readUInt32LE(at) === 0x02014b50) {
    if (at + 46 > end) throw new Unreadable(skipReason('zipBadDirectory'));
    const nameLength = buf.readUInt16LE(at + 28);
    const extra = buf.readUInt16LE(at + 30);
    const comment = buf.readUInt16LE(at + 32);
    entries.push({
      name: buf.toString('utf8', at + 46, at + 46 + nameLength),
      method: buf.readUInt16LE(at + 10),
      compressedSize: buf.readUInt32LE(at + 20),
      size: buf.readUInt32LE(at + 24),
      localOffset: buf.readUInt32LE(at + 42),
    });
    at += 46 + nameLength + extra + comment;
  }
  if (at !== end || entries.length !== count) throw new Unreadable(skipReason('zipBadDirectory'));
  return entries;
}

function entryData(buf: Buffer, entry: Entry, room: number): Buffer {
  const at = entry.localOffset;
  if (at + 30 > buf.length || buf.readUInt32LE(at) !== 0x04034b50)
    throw new Unreadable(skipReason('zipBadEntry', { entry: entry.name }));
  const start = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
  const raw = buf.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return raw;
  if (entry.method !== 8) throw new Unreadable(skipReason('zipMethod', { method: entry.method, entry: entry.name }));
  try {
    // Bounded by what the entry declares (and what is left of the limit): a lying entry stops here.
    return inflateRawSync(raw, { maxOutputLength: Math.max(1, Math.min(entry.size, room)) });
  } catch (err) {
    if (err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Unreadable(skipReason('zipLies', { entry: entry.name }));
    }
    throw new Unreadable(skipReason('zipDamaged', { entry: entry.name, detail: (err as Error).message }));
  }
}
