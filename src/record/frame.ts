import { ValidationError } from '../errors';

/**
 * GoChariots' TCP framing (SPEC §3.2). Byte layout of one frame:
 *   [0..4)    N, uint32 big-endian = 1 + payload length (N ≥ 1)
 *   [4]       type byte: 'r' = one JSON record, 's' = a JSON array of records
 *   [5..4+N)  payload
 * A bad length (0, or above maxFrameBytes) loses the framing: the decoder throws a fatal
 * FramingError and the connection must be closed. An unknown type byte is only a bad
 * frame: it is reported and skipped, the next frame is read normally.
 */

export type FrameType = 'r' | 's';

export interface Frame {
  type: FrameType;
  payload: Buffer;
}

/** What push() yields per complete frame: a frame, or a non-fatal error for a skipped one. */
export type DecodedFrame = ({ ok: true } & Frame) | { ok: false; error: ValidationError };

/**
 * A broken stream (framing lost). `fatal` is always true: close the connection. `frames`
 * holds the frames that the same push() completed before the break, so none is lost.
 */
export class FramingError extends ValidationError {
  readonly fatal = true;
  frames: DecodedFrame[] = [];
  constructor(message: string, details: Record<string, unknown>) {
    super('CHARIOTS_ERR_BAD_FRAME', message, { details: { ...details, fatal: true } });
  }
}

export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

const TYPE_BYTES: Record<number, FrameType> = { 0x72: 'r', 0x73: 's' };

export function encodeFrame(type: FrameType, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame.writeUInt32BE(1 + body.length, 0);
  frame[4] = type.charCodeAt(0);
  body.copy(frame, 5);
  return frame;
}

/**
 * Incremental decoder for one connection. Memory: at most one partial header (4 bytes)
 * plus one partial frame body (≤ maxFrameBytes), kept as a list of chunk slices that is
 * concatenated once when the frame completes, so many small chunks cost linear time.
 * Complete frames inside a chunk are zero-copy views of it.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  private header = Buffer.alloc(4);
  private headerFill = 0;
  /** Declared N of the frame being read; -1 while reading the header. */
  private need = -1;
  private parts: Buffer[] = [];
  private partsLength = 0;
  private failure: FramingError | undefined;

  constructor(options: { maxFrameBytes?: number } = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Bytes held for an incomplete frame (header + body so far). */
  get buffered(): number {
    return this.headerFill + this.partsLength;
  }

  /** True between frames: closing the connection now loses nothing. */
  get idle(): boolean {
    return this.buffered === 0;
  }

  /**
   * Feeds bytes; returns every frame they complete. Throws FramingError when framing is
   * lost (error.frames = the frames completed before it); every later push throws too.
   */
  push(chunk: Buffer): DecodedFrame[] {
    if (this.failure) {
      this.failure.frames = [];
      throw this.failure;
    }
    const out: DecodedFrame[] = [];
    try {
      this.decode(chunk, out);
    } catch (e) {
      if (e instanceof FramingError) e.frames = out;
      throw e;
    }
    return out;
  }

  private decode(chunk: Buffer, out: DecodedFrame[]): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.need < 0) {
        if (this.headerFill === 0 && chunk.length - pos >= 4) {
          this.setLength(chunk.readUInt32BE(pos));
          pos += 4;
        } else {
          const n = Math.min(4 - this.headerFill, chunk.length - pos);
          chunk.copy(this.header, this.headerFill, pos, pos + n);
          this.headerFill += n;
          pos += n;
          if (this.headerFill < 4) break;
          this.headerFill = 0;
          this.setLength(this.header.readUInt32BE(0));
        }
        continue;
      }
      const missing = this.need - this.partsLength;
      const take = Math.min(missing, chunk.length - pos);
      const slice = chunk.subarray(pos, pos + take);
      pos += take;
      if (take < missing) {
        this.parts.push(slice);
        this.partsLength += take;
        break;
      }
      const body =
        this.parts.length === 0 ? slice : Buffer.concat([...this.parts, slice], this.need);
      this.parts = [];
      this.partsLength = 0;
      this.need = -1;
      out.push(toFrame(body));
    }
  }

  private setLength(n: number): void {
    if (n === 0 || n > this.maxFrameBytes) {
      const why =
        n === 0 ? 'a frame needs at least its type byte' : `the limit is ${this.maxFrameBytes}`;
      this.failure = new FramingError(`bad frame length ${n}: ${why}; framing is lost`, {
        length: n,
        maxFrameBytes: this.maxFrameBytes,
      });
      throw this.failure;
    }
    this.need = n;
  }
}

function toFrame(body: Buffer): DecodedFrame {
  const type = TYPE_BYTES[body[0]];
  if (type === undefined) {
    const hex = body[0].toString(16).padStart(2, '0');
    return {
      ok: false,
      error: new ValidationError(
        'CHARIOTS_ERR_BAD_FRAME',
        `unknown frame type byte 0x${hex}; expected 'r' (one record) or 's' (an array of records); frame skipped`,
        { details: { typeByte: body[0], length: body.length, fatal: false } },
      ),
    };
  }
  return { ok: true, type, payload: body.subarray(1) };
}
