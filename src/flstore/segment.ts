import { open, type FileHandle } from 'node:fs/promises';
import { ChariotsError } from '../errors';
import { decodeLog, type LogRecord } from '../record';
import { readFrame } from './frame';
import type { SegmentKeys } from './key-table';
import { U32List } from './u32-list';

/**
 * One segment file, open for positional reads (and appends while it is the active one).
 * `positions` has one entry per record plus the end of the last one, so a record's frame is
 * `[positions[i], positions[i+1])`, read with one positional read and no header round trip.
 */
export class Segment {
  /** Set once sealed: its key tables (the active segment's keys live in the store's maps). */
  sealed: SegmentKeys | undefined;

  private constructor(
    readonly firstLid: number,
    readonly path: string,
    private readonly fh: FileHandle,
    readonly positions: U32List,
    public lastOffset: string,
  ) {}

  static async open(
    path: string,
    firstLid: number,
    positions: ArrayLike<number>,
    endBytes: number,
    lastOffset: string,
    sealed?: SegmentKeys,
  ): Promise<Segment> {
    // 'a+': appends always go to the end, positional reads work anywhere.
    const fh = await open(path, 'a+');
    const list = U32List.from(positions, endBytes, sealed ? 0 : 1024 + positions.length);
    const seg = new Segment(firstLid, path, fh, list, lastOffset);
    seg.sealed = sealed;
    return seg;
  }

  get count(): number {
    return this.positions.length - 1;
  }

  get bytes(): number {
    return this.positions.at(this.positions.length - 1);
  }

  get lastLid(): number {
    return this.firstLid + this.count - 1;
  }

  /** Appends encoded frames; the caller publishes their positions once written (and synced). */
  async write(buf: Buffer): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, done, buf.length - done);
      done += bytesWritten;
    }
  }

  /** Makes the new frames visible to readers. */
  publish(frameStarts: number[], end: number, lastOffset: string): void {
    // The current end sentinel becomes the first new frame's start.
    this.positions.length--;
    for (const p of frameStarts) this.positions.push(p);
    this.positions.push(end);
    this.lastOffset = lastOffset;
  }

  async sync(): Promise<void> {
    await this.fh.datasync();
  }

  async truncate(bytes: number): Promise<void> {
    await this.fh.truncate(bytes);
  }

  /** Records `fromLid … fromLid+n-1` (must be in this segment), checksums verified. */
  async read(fromLid: number, n: number): Promise<LogRecord[]> {
    const i = fromLid - this.firstLid;
    const start = this.positions.at(i);
    const end = this.positions.at(i + n);
    const buf = Buffer.allocUnsafe(end - start);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await this.fh.read(buf, got, buf.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const out: LogRecord[] = [];
    let at = 0;
    for (let k = 0; k < n; k++) {
      const f = readFrame(buf.subarray(0, got), at);
      if (!f.ok || f.entry.lid !== fromLid + k) {
        throw new ChariotsError(
          'CHARIOTS_ERR_CORRUPT_STORE',
          `flstore record ${fromLid + k} in ${this.path} fails its checksum`,
        );
      }
      out.push(decodeLog(f.entry.value));
      at = f.next;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
