import { mkdir, rm } from 'node:fs/promises';
import { ChariotsError } from '../errors';
import type { Logger } from '../logger';
import { fnv1a64Decimal, hashTag, type LogRecord } from '../record';
import { encodeActiveFile } from './active-file';
import { ActiveIndex } from './active-index';
import { activePath, segmentPath, indexPath, syncDir, writeFileAtomic } from './files';
import { encodeFrames, frameSize } from './frame';
import { encodeIndexFile } from './index-file';
import { keyHash, type KeyKind } from './key-table';
import { recoverSegments } from './recover';
import { lockDir, type DirLock } from './lock';
import { Segment } from './segment';
import type { AppendEntry, FsyncPolicy, StoreQuery, StoreReader } from './types';
import { LidWaiters } from './waiters';

export interface FlStoreOptions {
  dir: string;
  /** A segment is sealed once it would grow past this (a bigger record gets its own). */
  segmentBytes: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  logger: Logger;
  /** Who holds the directory's lock, for the error another writer gets (default "flstore"). */
  owner?: string;
}

/**
 * flstore: the log as segment files plus indexes (LId → position per segment; id, seed and
 * tag hash → LIds). A sealed segment's indexes are compact sorted tables loaded as-is from
 * its index file; the active segment's live in maps, rebuilt at open by scanning it, and
 * become tables when it is sealed. One writer (the maintainer) appends in LId order; any
 * number of readers read concurrently. Readers only ever see records that are fully written
 * (and synced, under fsync=always).
 */
export class FlStore implements StoreReader {
  private readonly segments: Segment[] = [];
  /** The active segment's indexes; sorted into tables when it is sealed. */
  private activeIdx = new ActiveIndex(1);
  private loaded = false;
  private last = 0;
  private lastOff = '';
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters = new LidWaiters();
  private closed = false;

  private constructor(
    private readonly opts: FlStoreOptions,
    private readonly lock: DirLock,
  ) {}

  /** Opens (and recovers) the store; CHARIOTS_ERR_STORE_LOCKED if another process writes it. */
  static async open(opts: FlStoreOptions): Promise<FlStore> {
    await mkdir(opts.dir, { recursive: true });
    const lock = await lockDir(opts.dir, opts.owner ?? 'flstore');
    const s = new FlStore(opts, lock);
    try {
      await s.load();
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  private async load(): Promise<void> {
    const { opts } = this;
    const recovered = await recoverSegments(opts.dir, opts.logger);
    for (const r of recovered) {
      const seg = await Segment.open(
        segmentPath(opts.dir, r.firstLid),
        r.firstLid,
        r.positions,
        r.bytes,
        r.lastOffset,
        r.sealed,
      );
      this.segments.push(seg);
      if (!r.sealed && r.active) this.activeIdx = r.active;
      if (r.positions.length > 0) {
        this.last = seg.lastLid;
        this.lastOff = r.lastOffset;
      }
    }
    // A crash right after sealing leaves the sealed segment last: append to a new one.
    if (this.segments.length === 0 || this.active.sealed) {
      this.segments.push(
        await Segment.open(segmentPath(opts.dir, this.last + 1), this.last + 1, [], 0, ''),
      );
      this.activeIdx = new ActiveIndex(this.last + 1);
    }
    this.loaded = true;
    if (opts.fsync === 'interval') {
      this.timer = setInterval(
        () =>
          void this.flush().catch((e: unknown) =>
            opts.logger.error({ err: e }, 'flstore fsync failed'),
          ),
        opts.fsyncIntervalMs,
      );
      this.timer.unref();
    }
  }

  lastLid(): number {
    return this.last;
  }

  /** Kafka offset of the last stored record ('' when empty): resume from the next one. */
  lastOffset(): string {
    return this.lastOff;
  }

  /** Sizes, for tests and benchmarks: `ids` counts id entries (one per record). */
  stats() {
    let ids = this.activeIdx.entries;
    let indexBytes = this.activeIdx.bytes;
    for (const seg of this.segments) {
      indexBytes += 4 * seg.positions.length;
      if (!seg.sealed) continue;
      ids += seg.sealed.ids.length;
      for (const t of Object.values(seg.sealed)) indexBytes += t.words.byteLength;
    }
    return { records: this.last, segments: this.segments.length, ids, indexBytes };
  }

  /**
   * Appends records whose LIds continue the store densely (lastLid+1, +2, …); anything
   * else is refused with CHARIOTS_ERR_LOG_GAP and nothing is written.
   */
  async append(entries: readonly AppendEntry[]): Promise<void> {
    if (this.closed) throw new ChariotsError('CHARIOTS_ERR_SHUTTING_DOWN', 'flstore is closed');
    entries.forEach((e, i) => {
      if (e.record.lid !== this.last + 1 + i)
        throw new ChariotsError(
          'CHARIOTS_ERR_LOG_GAP',
          `flstore expected LId ${this.last + 1 + i}, got ${e.record.lid}`,
          {
            details: { expected: this.last + 1 + i, got: e.record.lid },
          },
        );
    });
    let pending: AppendEntry[] = [];
    let pendingBytes = 0;
    for (const e of entries) {
      const size = frameSize(e.value.length);
      const seg = this.active;
      if (
        seg.bytes + pendingBytes > 0 &&
        seg.bytes + pendingBytes + size > this.opts.segmentBytes
      ) {
        await this.write(pending);
        pending = [];
        pendingBytes = 0;
        if (this.active.count > 0) await this.roll();
      }
      pending.push(e);
      pendingBytes += size;
    }
    await this.write(pending);
    this.waiters.release(this.last);
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1];
  }

  private async write(entries: AppendEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const seg = this.active;
    const buf = encodeFrames(
      entries.map((e) => ({ lid: e.record.lid, offset: e.offset, value: e.value })),
    );
    const starts: number[] = [];
    let at = seg.bytes;
    for (const e of entries) {
      starts.push(at);
      at += frameSize(e.value.length);
    }
    try {
      await seg.write(buf);
      if (this.opts.fsync === 'always') await seg.sync();
    } catch (e) {
      // Leave no partial frame behind for the next append to follow.
      await seg.truncate(seg.bytes).catch(() => undefined);
      throw e;
    }
    this.dirty = this.opts.fsync !== 'always';
    const lastOffset = entries[entries.length - 1].offset;
    seg.publish(starts, at, lastOffset);
    for (const e of entries) this.activeIdx.addRecord(e.record);
    this.last = entries[entries.length - 1].record.lid;
    this.lastOff = lastOffset;
  }

  /** Seals the active segment (synced, index file written) and starts the next one. */
  private async roll(): Promise<void> {
    const seg = this.active;
    await seg.sync();
    const positions = Uint32Array.from(seg.positions.toArray());
    const keys = this.activeIdx.seal();
    await writeFileAtomic(
      indexPath(this.opts.dir, seg.firstLid),
      encodeIndexFile({
        firstLid: seg.firstLid,
        segmentBytes: seg.bytes,
        lastOffset: seg.lastOffset,
        positions: positions.subarray(0, positions.length - 1),
        keys,
      }),
    );
    const first = this.last + 1;
    const next = await Segment.open(segmentPath(this.opts.dir, first), first, [], 0, '');
    // Readers switch from the maps to the tables in one step (no await in between).
    seg.sealed = keys;
    seg.positions.compact();
    this.segments.push(next);
    this.activeIdx = new ActiveIndex(first);
    // A snapshot from an earlier close no longer describes a segment that is now sealed.
    await rm(activePath(this.opts.dir, seg.firstLid), { force: true });
    await syncDir(this.opts.dir);
  }

  /** Syncs the active segment if anything was written since the last sync. */
  async flush(): Promise<void> {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    await this.active.sync();
  }

  private segmentOf(lid: number): Segment {
    return this.segments[this.segmentIndex(lid)];
  }

  private segmentIndex(lid: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segments[mid].firstLid <= lid) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Up to `limit` LIds > `after` filed under `key`, ascending: the sealed segments' tables
   * (hashed keys: may include other keys' records, which the caller re-checks), then the
   * active segment's maps. Only segments from the one holding `after + 1` are visited.
   */
  private candidates(kind: KeyKind, key: string, after: number, limit: number): number[] {
    const out: number[] = [];
    if (after >= this.last || limit <= 0) return out;
    const h = keyHash(key);
    for (let i = this.segmentIndex(after + 1); i < this.segments.length; i++) {
      const seg = this.segments[i];
      if (seg.sealed) {
        const from = Math.max(0, after + 1 - seg.firstLid);
        for (const rel of seg.sealed[kind].find(h, from, limit - out.length))
          out.push(seg.firstLid + rel);
      } else {
        out.push(...this.activeIdx.page(kind, key, after, limit - out.length));
      }
      if (out.length >= limit) break;
    }
    return out;
  }

  async get(lid: number): Promise<LogRecord | undefined> {
    if (!Number.isSafeInteger(lid) || lid < 1 || lid > this.last) return undefined;
    return (await this.segmentOf(lid).read(lid, 1))[0];
  }

  async range(from: number, limit: number): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    let lid = Math.max(1, from);
    const end = Math.min(this.last, lid + limit - 1);
    while (lid <= end) {
      const seg = this.segmentOf(lid);
      const n = Math.min(end, seg.lastLid) - lid + 1;
      out.push(...(await seg.read(lid, n)));
      lid += n;
    }
    return out;
  }

  async query(q: StoreQuery, after: number, limit: number): Promise<LogRecord[]> {
    if (q.by === 'id') {
      // The newest record with this id, as when ids were a map (ids are unique in practice).
      if (limit <= 0) return [];
      const lids = this.candidates('ids', q.id, after, 1000);
      for (let i = lids.length - 1; i >= 0; i--) {
        const r = await this.get(lids[i]);
        if (r && r.id === q.id) return [r];
      }
      return [];
    }
    const kind = q.by === 'seed' ? 'seeds' : 'tags';
    const key = q.by === 'seed' ? q.seed : q.by === 'hash' ? q.hash : fnv1a64Decimal(q.tag);
    const out: LogRecord[] = [];
    // Every candidate is re-checked: table keys are truncated hashes, and two tags may share
    // a 64-bit FNV hash.
    for (let cursor = after; out.length < limit;) {
      const lids = this.candidates(kind, key, cursor, limit - out.length);
      if (lids.length === 0) break;
      const recs = await Promise.all(lids.map((l) => this.get(l)));
      for (const r of recs) if (r && matches(q, r)) out.push(r);
      cursor = lids[lids.length - 1];
    }
    return out;
  }

  /**
   * Syncs the active segment and writes the snapshot of its indexes, so the next open loads
   * them instead of parsing every record of the segment. Best effort: without it, the next
   * open scans the segment.
   */
  private async snapshotActive(): Promise<void> {
    const seg = this.active;
    try {
      await seg.sync();
      this.dirty = false;
      if (seg.count === 0) return;
      await writeFileAtomic(
        activePath(this.opts.dir, seg.firstLid),
        encodeActiveFile({
          firstLid: seg.firstLid,
          segmentBytes: seg.bytes,
          lastOffset: seg.lastOffset,
          positions: seg.positions.view().subarray(0, seg.count),
          triples: this.activeIdx.snapshot(),
        }),
      );
    } catch (e) {
      this.opts.logger.warn({ err: e }, 'flstore: active segment snapshot not written');
    }
  }

  waitForLid(lid: number, signal?: AbortSignal): Promise<boolean> {
    if (lid <= this.last) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return this.waiters.wait(lid, signal);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    this.closed = true;
    if (this.loaded) await this.snapshotActive();
    this.waiters.closeAll();
    for (const s of this.segments) await s.close().catch(() => undefined);
    await this.lock.release();
  }
}

function matches(q: StoreQuery, r: LogRecord): boolean {
  switch (q.by) {
    case 'tag':
      return hasTag(r, q.tag);
    case 'hash':
      return Object.entries(r.tags).some(([k, v]) => hashTag(k, v) === q.hash);
    case 'seed':
      return r.seed === q.seed;
    case 'id':
      return r.id === q.id;
  }
}

const hasTag = (r: LogRecord, tag: string) =>
  Object.entries(r.tags).some(
    ([k, v]) => tag.length === k.length + 1 + v.length && tag === `${k}:${v}`,
  );
