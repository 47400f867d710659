import { open, readFile, rm, stat, truncate } from 'node:fs/promises';
import type { Logger } from '../logger';
import { decodeActiveFile, type ActiveSnapshot } from './active-file';
import { ActiveIndex } from './active-index';
import {
  activePath,
  indexPath,
  listSegments,
  segmentPath,
  syncDir,
  writeFileAtomic,
} from './files';
import { readFrame } from './frame';
import { decodeIndexFile, encodeIndexFile } from './index-file';
import { buildSegmentKeys, type SegmentKeys } from './key-table';
import { scanSegment } from './segment-scan';

export interface RecoveredSegment {
  firstLid: number;
  positions: ArrayLike<number>;
  bytes: number;
  lastOffset: string;
  /** A sealed segment's indexes (from its index file, or built and written now). */
  sealed?: SegmentKeys;
  /** The last segment's indexes: it stays the active one. */
  active?: ActiveIndex;
}

/**
 * Brings `dir` to a consistent state and returns its segments, oldest first. The store is
 * always a dense prefix 1..N of the log:
 *  - a sealed segment is loaded from its index file when that file is intact (CRC) and
 *    describes exactly the segment's current length; otherwise (missing, damaged, stale, or
 *    an older format) the segment is scanned and the index file rewritten;
 *  - the last segment is scanned, and a torn tail (short frame, bad CRC, LId out of
 *    sequence) is truncated; when a clean close left a snapshot of its indexes (`.act`)
 *    that matches it, only the bytes written after the snapshot are scanned;
 *  - a damaged sealed segment, or a segment that does not continue the LIds, ends the
 *    prefix: it is cut at its last intact record and every later segment is removed.
 *    Nothing is lost for good: the maintainer re-reads the rest from the log topic.
 */
export async function recoverSegments(dir: string, logger: Logger): Promise<RecoveredSegment[]> {
  const firsts = await listSegments(dir);
  const out: RecoveredSegment[] = [];
  let expected = 1;
  for (let i = 0; i < firsts.length; i++) {
    const first = firsts[i];
    const path = segmentPath(dir, first);
    if (first !== expected) {
      logger.warn(
        { segment: path, expected },
        'segment does not continue the LIds; removing it and later ones',
      );
      await removeFrom(dir, firsts.slice(i));
      break;
    }
    const isLast = i === firsts.length - 1;
    const size = (await stat(path)).size;
    if (isLast) {
      const snap = await loadSnapshot(dir, first, size);
      if (snap) {
        out.push(await resumeFromSnapshot(path, snap, size, logger));
        expected = first + out[out.length - 1].positions.length;
        continue;
      }
    }
    await rm(activePath(dir, first), { force: true });
    if (!isLast) {
      const idx = await readFile(indexPath(dir, first)).then(decodeIndexFile, () => undefined);
      if (idx && idx.firstLid === first && idx.segmentBytes === size && idx.positions.length > 0) {
        out.push({
          firstLid: first,
          positions: idx.positions,
          sealed: idx.keys,
          bytes: size,
          lastOffset: idx.lastOffset,
        });
        expected = first + idx.positions.length;
        continue;
      }
      logger.info({ segment: path }, 'segment index missing or stale; rebuilding it');
    }
    const scan = scanSegment(await readFile(path), first);
    if (scan.torn) {
      logger.warn(
        {
          segment: path,
          reason: scan.torn,
          validBytes: scan.validBytes,
          fileBytes: size,
          records: scan.positions.length,
        },
        'torn or damaged tail truncated',
      );
      await truncate(path, scan.validBytes);
      await rm(indexPath(dir, first), { force: true });
    }
    const active = new ActiveIndex(first);
    for (const k of scan.keys) active.add(k);
    out.push({
      firstLid: first,
      positions: scan.positions,
      active,
      bytes: scan.validBytes,
      lastOffset: scan.lastOffset,
    });
    expected = first + scan.positions.length;
    if (scan.torn && !isLast) {
      await removeFrom(dir, firsts.slice(i + 1));
      break;
    }
    if (!isLast && !scan.torn) {
      const r = out[out.length - 1];
      r.sealed = buildSegmentKeys(scan.keys);
      r.active = undefined;
      await writeFileAtomic(
        indexPath(dir, first),
        encodeIndexFile({
          firstLid: first,
          segmentBytes: size,
          lastOffset: r.lastOffset,
          positions: Uint32Array.from(scan.positions),
          keys: r.sealed,
        }),
      );
    }
  }
  // An empty segment other than the last cannot be extended: drop it (it holds nothing).
  while (out.length > 1 && out[out.length - 1].positions.length === 0) {
    const s = out.pop()!;
    await removeFrom(dir, [s.firstLid]);
  }
  await syncDir(dir);
  return out;
}

async function removeFrom(dir: string, firsts: number[]): Promise<void> {
  for (const f of firsts) {
    await rm(segmentPath(dir, f), { force: true });
    await rm(indexPath(dir, f), { force: true });
    await rm(activePath(dir, f), { force: true });
  }
}

/**
 * The snapshot of the last segment, if it describes a prefix of the segment as it is now:
 * same first LId, no longer than the file, and its last record's frame intact where it
 * says (a tail cut or rewritten since fails this and the segment is scanned whole).
 */
async function loadSnapshot(
  dir: string,
  first: number,
  size: number,
): Promise<ActiveSnapshot | undefined> {
  const snap = await readFile(activePath(dir, first)).then(decodeActiveFile, () => undefined);
  const n = snap?.positions.length ?? 0;
  if (!snap || snap.firstLid !== first || snap.segmentBytes > size || n === 0) return undefined;
  const start = snap.positions[n - 1];
  if (start >= snap.segmentBytes) return undefined;
  const frame = await readRange(segmentPath(dir, first), start, snap.segmentBytes);
  const f = readFrame(frame, 0);
  return f.ok && f.entry.lid === first + n - 1 && f.next === frame.length ? snap : undefined;
}

/** Restores the snapshot's indexes and scans only what was appended after it. */
async function resumeFromSnapshot(
  path: string,
  snap: ActiveSnapshot,
  size: number,
  logger: Logger,
): Promise<RecoveredSegment> {
  const n = snap.positions.length;
  const tail = scanSegment(await readRange(path, snap.segmentBytes, size), snap.firstLid + n);
  const bytes = snap.segmentBytes + tail.validBytes;
  if (tail.torn) {
    logger.warn(
      { segment: path, reason: tail.torn, validBytes: bytes, fileBytes: size },
      'torn or damaged tail truncated',
    );
    await truncate(path, bytes);
  }
  const active = ActiveIndex.restore(snap.firstLid, n, snap.triples);
  for (const k of tail.keys) active.add(k);
  const positions = new Uint32Array(n + tail.positions.length);
  positions.set(snap.positions);
  tail.positions.forEach((p, i) => (positions[n + i] = snap.segmentBytes + p));
  return {
    firstLid: snap.firstLid,
    positions,
    active,
    bytes,
    lastOffset: tail.positions.length > 0 ? tail.lastOffset : snap.lastOffset,
  };
}

async function readRange(path: string, from: number, to: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(to - from);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, from + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}
