import type { OutMessage } from './types';

/**
 * kafkajs puts every message for one partition into ONE record batch per request, and the
 * broker refuses a batch above max.message.bytes (1 MiB by default): a transaction's output
 * is sent in requests of at most this many bytes (all inside the same transaction).
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

/** Bytes on the wire: a string's UTF-8 length (up to 3 bytes per UTF-16 unit), not its .length. */
const byteSize = (v: string | Buffer | null | undefined): number =>
  v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;

export function chunkBySize(messages: OutMessage[], maxBytes: number): OutMessage[][] {
  const chunks: OutMessage[][] = [];
  let current: OutMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = byteSize(m.value) + byteSize(m.key) + 64;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
