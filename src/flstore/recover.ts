import { readFile, rm, stat, truncate } from 'node:fs/promises';
import type { Logger } from '../logger';
import { indexPath, listSegments, segmentPath, syncDir, writeFileAtomic } from './files';
import { decodeIndexFile, encodeIndexFile } from './index-file';
import { buildSegmentKeys, type SegmentKeys } from './key-table';
import type { RecordKeys } from './keys';
import { scanSegment } from './segment-scan';

export interface RecoveredSegment {
  firstLid: number;
  positions: ArrayLike<number>;
  bytes: number;
  lastOffset: string;
  /** A sealed segment's indexes (from its index file, or built and written now). */
  sealed?: SegmentKeys;
  /** The scanned last segment's keys: it stays the active one. */
  keys?: RecordKeys[];
}

/**
 * Brings `dir` to a consistent state and returns its segments, oldest first. The store is
 * always a dense prefix 1..N of the log:
 *  - a sealed segment is loaded from its index file when that file is intact (CRC) and
 *    describes exactly the segment's current length; otherwise (missing, damaged, stale, or
 *    an older format) the segment is scanned and the index file rewritten;
 *  - the last segment is always scanned, and a torn tail (short frame, bad CRC, LId out of
 *    sequence) is truncated;
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
    out.push({
      firstLid: first,
      positions: scan.positions,
      keys: scan.keys,
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
      r.keys = undefined;
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
  }
}
