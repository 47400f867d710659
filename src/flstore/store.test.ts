import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { hashTag } from '../record';
import { activePath, segmentPath, indexPath } from './files';
import { decodeIndexFile } from './index-file';
import { FlStore, type FlStoreOptions } from './store';
import { entries, makeRecord } from './test-records';

const logger = pino({ level: 'silent' });
let dir: string;
const opts = (o: Partial<FlStoreOptions> = {}): FlStoreOptions => ({
  dir,
  segmentBytes: 4096,
  fsync: 'never',
  fsyncIntervalMs: 1000,
  logger,
  ...o,
});
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'flstore-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function filled(n: number, o: Partial<FlStoreOptions> = {}): Promise<FlStore> {
  const s = await FlStore.open(opts(o));
  for (let from = 1; from <= n; from += 37) await s.append(entries(from, Math.min(n, from + 36)));
  return s;
}

/** Every read path agrees with the records that were appended. */
async function expectContents(s: FlStore, n: number): Promise<void> {
  expect(s.lastLid()).toBe(n);
  expect(s.lastOffset()).toBe(n === 0 ? '' : String(n * 2 + 5));
  const all = await s.range(1, n + 10);
  expect(all).toEqual(Array.from({ length: n }, (_, i) => makeRecord(i + 1)));
  for (const lid of [1, Math.ceil(n / 2), n])
    if (lid >= 1) expect(await s.get(lid)).toEqual(makeRecord(lid));
  expect(await s.get(n + 1)).toBeUndefined();
  expect(await s.get(0)).toBeUndefined();
  const byTag = all.filter((r) => r.tags.k === 'v1').map((r) => r.lid);
  const pages: number[] = [];
  for (let after = 0; ;) {
    const page = await s.query({ by: 'tag', tag: 'k:v1' }, after, 7);
    if (page.length === 0) break;
    pages.push(...page.map((r) => r.lid));
    after = page[page.length - 1].lid;
  }
  expect(pages).toEqual(byTag);
  expect(
    (await s.query({ by: 'hash', hash: hashTag('k', 'v2') }, 0, 1000)).map((r) => r.lid),
  ).toEqual(all.filter((r) => r.tags.k === 'v2').map((r) => r.lid));
  const max = '18446744073709551615';
  expect((await s.query({ by: 'seed', seed: max }, 0, 1000)).map((r) => r.lid)).toEqual(
    all.filter((r) => r.seed === max).map((r) => r.lid),
  );
  if (n > 0) expect(await s.query({ by: 'id', id: `id-${n}` }, 0, 10)).toEqual([makeRecord(n)]);
  expect(await s.query({ by: 'id', id: 'nope' }, 0, 10)).toEqual([]);
}

describe('FlStore', () => {
  it('serves every read path, rolls segments, and reopens from index files', async () => {
    const s = await filled(500, { fsync: 'always' });
    await expectContents(s, 500);
    await s.close();
    const segs = readdirSync(dir).filter((f) => f.endsWith('.seg'));
    expect(segs.length).toBeGreaterThan(5);
    expect(segs[0]).toBe('00000000000000000001.seg');
    expect(readdirSync(dir).filter((f) => f.endsWith('.idx'))).toHaveLength(segs.length - 1);
    const again = await FlStore.open(opts());
    await expectContents(again, 500);
    await again.append(entries(501, 600));
    await expectContents(again, 600);
    await again.close();
  });

  it('detects missing, damaged, stale and old-format index files and rebuilds them', async () => {
    await (await filled(300)).close();
    const idxs = readdirSync(dir)
      .filter((f) => f.endsWith('.idx'))
      .sort();
    expect(idxs.length).toBeGreaterThan(4);
    const original = idxs.map((f) => readFileSync(join(dir, f)));
    rmSync(join(dir, idxs[0])); // missing
    const flipped = Buffer.from(original[1]);
    flipped[flipped.length >> 1] ^= 0x04; // one bit flipped: the CRC catches it
    writeFileSync(join(dir, idxs[1]), flipped);
    writeFileSync(join(dir, idxs[2]), original[3]); // another segment's: stale
    const v1 = Buffer.from(original[3]);
    v1.write('FLX1', 0, 'latin1'); // the previous format (string keys): rebuilt, not misread
    writeFileSync(join(dir, idxs[3]), v1);
    const s = await FlStore.open(opts());
    await expectContents(s, 300);
    await s.close();
    // Rebuilt byte for byte as written when sealed, and intact.
    idxs.forEach((f, i) => expect(readFileSync(join(dir, f))).toEqual(original[i]));
    for (const f of idxs) expect(decodeIndexFile(readFileSync(join(dir, f)))).toBeDefined();
  });

  it('opens sealed segments from their index files alone (no segment scan at open)', async () => {
    await (await filled(300)).close();
    const segs = readdirSync(dir)
      .filter((f) => f.endsWith('.seg'))
      .sort();
    const second = Number(segs[1].slice(0, 20));
    // Damage a record in a sealed segment: a scan would cut the log there; the index file
    // is still valid, so open keeps every record and only the read of that one fails.
    const path = segmentPath(dir, second);
    const bytes = readFileSync(path);
    bytes[40] ^= 0x01;
    writeFileSync(path, bytes);
    const s = await FlStore.open(opts());
    expect(s.lastLid()).toBe(300);
    expect(s.stats().ids).toBe(300);
    await expect(s.get(second)).rejects.toMatchObject({ code: 'CHARIOTS_ERR_CORRUPT_STORE' });
    expect(await s.get(second + 1)).toEqual(makeRecord(second + 1));
    await s.close();
  });

  it('reopens the active segment from its close-time snapshot, scanning only what follows it', async () => {
    await (await filled(300)).close();
    const segs = readdirSync(dir)
      .filter((f) => f.endsWith('.seg'))
      .sort();
    const lastFirst = Number(segs[segs.length - 1].slice(0, 20));
    expect(statSync(activePath(dir, lastFirst)).size).toBeGreaterThan(0);
    // A damaged record in the middle of the active segment goes unnoticed at open: proof
    // that the snapshot, not a scan, was used (a scan would cut the log there).
    const path = segmentPath(dir, lastFirst);
    const clean = readFileSync(path);
    const bad = Buffer.from(clean);
    bad[40] ^= 0x01;
    writeFileSync(path, bad);
    const s = await FlStore.open(opts());
    expect(s.lastLid()).toBe(300);
    await expect(s.get(lastFirst)).rejects.toMatchObject({ code: 'CHARIOTS_ERR_CORRUPT_STORE' });
    await s.close();
    writeFileSync(path, clean);

    // A crash after more appends: the snapshot covers a prefix, the rest is scanned.
    const live = await FlStore.open(opts());
    await live.append(entries(301, 320));
    const copy = mkdtempSync(join(tmpdir(), 'flstore-copy-'));
    try {
      for (const f of readdirSync(dir)) writeFileSync(join(copy, f), readFileSync(join(dir, f)));
      const crashed = await FlStore.open({ ...opts(), dir: copy });
      await expectContents(crashed, 320);
      await crashed.close();
    } finally {
      rmSync(copy, { recursive: true, force: true });
      rmSync(`${copy}.lock`, { force: true });
    }
    await live.close();
  });

  it('detects a damaged or stale active snapshot and scans the segment instead', async () => {
    await (await filled(300)).close();
    const act = readdirSync(dir).find((f) => f.endsWith('.act'))!;
    const good = readFileSync(join(dir, act));
    const flipped = Buffer.from(good);
    flipped[flipped.length >> 1] ^= 0x40;
    writeFileSync(join(dir, act), flipped);
    let s = await FlStore.open(opts());
    await expectContents(s, 300);
    await s.close();
    // Stale: the snapshot describes records the segment no longer holds in that place.
    const seg = join(dir, act.replace('.act', '.seg'));
    const bytes = readFileSync(seg);
    writeFileSync(join(dir, act), good);
    truncateSync(seg, 0);
    writeFileSync(seg, bytes.subarray(0, bytes.length - 60));
    s = await FlStore.open(opts());
    await expectContents(s, 299);
    await s.close();
  });

  it('refuses an LId gap or a repeat without writing anything', async () => {
    const s = await filled(10);
    await expect(s.append(entries(12, 12))).rejects.toMatchObject({ code: 'CHARIOTS_ERR_LOG_GAP' });
    await expect(s.append(entries(10, 11))).rejects.toMatchObject({ code: 'CHARIOTS_ERR_LOG_GAP' });
    await expectContents(s, 10);
    await s.close();
  });

  it('recovers from a tail torn at EVERY byte of the last record, to the previous record', async () => {
    const n = 45;
    await (await filled(n)).close();
    const firsts = readdirSync(dir)
      .filter((f) => f.endsWith('.seg'))
      .sort();
    const last = join(dir, firsts[firsts.length - 1]);
    const full = statSync(last).size;
    const s0 = await FlStore.open(opts());
    const lastSeg = (
      s0 as unknown as { segments: { positions: { at(i: number): number }; count: number }[] }
    ).segments;
    const active = lastSeg[lastSeg.length - 1];
    const start = active.positions.at(active.count - 1);
    await s0.close();
    const bytes = readFileSync(last);
    for (let cut = start; cut < full; cut++) {
      writeFileSync(last, bytes.subarray(0, cut));
      const s = await FlStore.open(opts());
      await expectContents(s, n - 1);
      await s.close();
      expect(statSync(last).size).toBe(start);
    }
    // A complete frame with a flipped bit is damaged too.
    const bad = Buffer.from(bytes);
    bad[full - 3] ^= 0x10;
    writeFileSync(last, bad);
    const s = await FlStore.open(opts());
    await expectContents(s, n - 1);
    await s.append(entries(n, n + 20));
    await expectContents(s, n + 20);
    await s.close();
  });

  it('cuts the log at a damaged sealed segment and drops the later ones', async () => {
    await (await filled(300)).close();
    const firsts = readdirSync(dir)
      .filter((f) => f.endsWith('.seg'))
      .sort();
    const second = Number(firsts[1].slice(0, 20));
    const third = Number(firsts[2].slice(0, 20));
    rmSync(indexPath(dir, second));
    appendFileSync(segmentPath(dir, second), Buffer.from([1, 2, 3])); // garbage inside the chain
    truncateSync(segmentPath(dir, second), statSync(segmentPath(dir, second)).size - 10);
    const s = await FlStore.open(opts());
    expect(s.lastLid()).toBe(third - 2);
    await expectContents(s, third - 2);
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg'))).toHaveLength(2);
    await s.close();
  });

  it('wakes tail readers when their LId arrives, and releases them on close', async () => {
    const s = await filled(3);
    const got = s.waitForLid(5);
    const ac = new AbortController();
    const aborted = s.waitForLid(9, ac.signal);
    ac.abort();
    await s.append(entries(4, 5));
    await expect(got).resolves.toBe(true);
    await expect(aborted).resolves.toBe(false);
    const never = s.waitForLid(100);
    await s.close();
    await expect(never).resolves.toBe(false);
  });
});
