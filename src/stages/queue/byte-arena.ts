/**
 * Deferred records' bytes, off the V8 heap (issue 8: 100 000 deferred records must cost less
 * than 150 MB of queue RSS). Held as a string each (latin1, one char per byte), they were
 * half of the ~525 heap bytes a deferred record costs — and V8 lets its heap grow to several
 * times its live data between full collections, so every live heap byte cost two to four
 * bytes of RSS. Here they are copied into shared chunks of ordinary memory instead.
 *
 * Chunks are append-only: a byte once written never changes, so a view handed out (a record
 * being released) stays valid whatever happens to the arena afterwards. A chunk is dropped
 * once nothing live is left in it; when the chunks held exceed twice the live bytes (records
 * released out of order leave holes), the owner moves the live records into fresh chunks
 * (`wasteful`, then `put` again each live one).
 */

/** One chunk: its bytes and how many of them still belong to a live record. */
export class ArenaChunk {
  live = 0;
  constructor(readonly buf: Buffer) {}
}

/** Where a record's bytes are: a chunk, an offset in it, a length. */
export interface ArenaSlot {
  chunk: ArenaChunk;
  offset: number;
  length: number;
}

export const ARENA_CHUNK_BYTES = 256 * 1024;

export class ByteArena {
  private readonly chunks = new Set<ArenaChunk>();
  private current: ArenaChunk | undefined;
  /** Write position in `current`. */
  private used = 0;
  private liveBytes = 0;
  private heldBytes = 0;

  constructor(private readonly chunkBytes = ARENA_CHUNK_BYTES) {}

  /** Bytes of live records. */
  get live(): number {
    return this.liveBytes;
  }

  /** Bytes of the chunks held (what the arena costs). */
  get held(): number {
    return this.heldBytes;
  }

  /** Copies `bytes` in; the slot is theirs until `free`. */
  put(bytes: Buffer): ArenaSlot {
    const n = bytes.length;
    let chunk = this.current;
    if (chunk === undefined || this.used + n > chunk.buf.length) {
      // A record larger than a chunk gets a chunk of its own size.
      chunk = this.newChunk(Math.max(this.chunkBytes, n));
      if (n <= this.chunkBytes) this.startChunk(chunk);
    }
    const offset = chunk === this.current ? this.used : 0;
    bytes.copy(chunk.buf, offset);
    if (chunk === this.current) this.used += n;
    chunk.live += n;
    this.liveBytes += n;
    return { chunk, offset, length: n };
  }

  /** The bytes of a slot: a view, valid for as long as it is referenced. */
  view(slot: ArenaSlot): Buffer {
    return slot.chunk.buf.subarray(slot.offset, slot.offset + slot.length);
  }

  /** The slot's record is gone; its chunk is dropped once nothing in it is live. */
  free(slot: ArenaSlot): void {
    const c = slot.chunk;
    if (!this.chunks.has(c)) return; // already dropped (freed twice): nothing to account
    c.live -= slot.length;
    this.liveBytes -= slot.length;
    if (c.live === 0 && c !== this.current) this.drop(c);
  }

  /**
   * True when the chunks hold more than twice the live bytes (plus a few chunks' slack): time
   * to `restart` and `put` every live record again, which drops the old chunks as they empty.
   */
  get wasteful(): boolean {
    return this.heldBytes > 2 * this.liveBytes + 4 * this.chunkBytes;
  }

  /** Writes go to a fresh chunk from now on (before moving the live records). */
  restart(): void {
    const old = this.current;
    this.current = undefined;
    if (old && old.live === 0) this.drop(old);
  }

  private newChunk(size: number): ArenaChunk {
    const chunk = new ArenaChunk(Buffer.allocUnsafeSlow(size));
    this.chunks.add(chunk);
    this.heldBytes += size;
    return chunk;
  }

  private startChunk(chunk: ArenaChunk): void {
    const old = this.current;
    this.current = chunk;
    this.used = 0;
    if (old && old.live === 0) this.drop(old);
  }

  private drop(c: ArenaChunk): void {
    if (this.chunks.delete(c)) this.heldBytes -= c.buf.length;
  }
}
