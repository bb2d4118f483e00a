/**
 * Large byte arrays in Durable Object storage, which takes at most 2 MB per key and value on
 * SQLite-backed objects (Durable Objects > Platform > Limits): a blob is stored as chunks of CHUNK_BYTES
 * under `<prefix>/<n>`, and a small layout record (kept by the caller, next to its other state) says how
 * many there are.
 *
 * The synchronous KV API is used on purpose: the caller writes every chunk of every blob and its small
 * state inside one ctx.storage.transactionSync, so a slice commits whole or not at all, with no limit on
 * the number of entries (an async put(entries) takes at most 128) and only one chunk copy alive at a
 * time (a put(entries) holds every copy until it returns: tens of MB for a large session).
 */
import { sessionKeys } from '../../shared/storage/keys';

/** Far below the 2 MB limit, and small enough that one copy in flight costs little memory. */
export const CHUNK_BYTES = 1 << 20;

/** Where a blob's chunks are: its byte length and chunk count. */
export interface ChunkLayout {
  bytes: number;
  chunks: number;
}

export function layoutOf(bytes: number): ChunkLayout {
  return { bytes, chunks: Math.ceil(bytes / CHUNK_BYTES) };
}

/** The bytes of a typed array's own range (not its whole buffer). */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Writes `bytes` as chunks and deletes the chunks a previous, longer layout left beyond them. Each chunk
 * is copied: storing a view would store its whole underlying buffer. Call inside transactionSync.
 */
export function writeChunked(
  kv: SyncKvStorage,
  prefix: string,
  bytes: Uint8Array,
  previous: ChunkLayout | null,
): ChunkLayout {
  const layout = layoutOf(bytes.byteLength);
  for (let i = 0; i < layout.chunks; i++)
    kv.put(
      sessionKeys.chunk(prefix, i),
      bytes.slice(i * CHUNK_BYTES, Math.min(bytes.byteLength, (i + 1) * CHUNK_BYTES)),
    );
  for (let i = layout.chunks; i < (previous?.chunks ?? 0); i++) kv.delete(sessionKeys.chunk(prefix, i));
  return layout;
}

export class MissingChunkError extends Error {
  override name = 'MissingChunkError';
}

/** Reads a blob back into `out` (allocated when not given), checking every chunk's presence and size. */
export function readChunked(
  kv: SyncKvStorage,
  prefix: string,
  layout: ChunkLayout,
  out: Uint8Array = new Uint8Array(layout.bytes),
): Uint8Array {
  if (out.byteLength !== layout.bytes)
    throw new Error(`${prefix}: ${out.byteLength} bytes to fill, the layout has ${layout.bytes}`);
  for (let i = 0; i < layout.chunks; i++) {
    const chunk = kv.get<Uint8Array>(sessionKeys.chunk(prefix, i));
    const expected = Math.min(CHUNK_BYTES, layout.bytes - i * CHUNK_BYTES);
    if (!(chunk instanceof Uint8Array) || chunk.byteLength !== expected)
      throw new MissingChunkError(`${prefix}: chunk ${i} of ${layout.chunks} is missing or has the wrong size`);
    out.set(chunk, i * CHUNK_BYTES);
  }
  return out;
}
