import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { encodeLog, type LogRecord } from '../record';
import { FlStore } from './store';
import { entries } from './test-records';

/**
 * Opens a store as the tests use one: 64 KiB segments (what the maintainer tests give
 * CHARIOTS_MAINTAINER_SEGMENT_BYTES, so their stores reopen as written), no fsync (no test
 * pulls the power), no log output.
 */
export function openTestStore(dir: string): Promise<FlStore> {
  return FlStore.open({
    dir,
    segmentBytes: 1 << 16,
    fsync: 'never',
    fsyncIntervalMs: 1000,
    logger: pino({ level: 'silent' }),
  });
}

/** A test store in a fresh temporary directory holding entries(1, count). */
export async function filledTestStore(
  name: string,
  count: number,
): Promise<{ store: FlStore; remove: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const store = await openTestStore(dir);
  await store.append(entries(1, count));
  return {
    store,
    /** Closes the store and deletes its directory. */
    remove: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Appends `record(1)` … `record(count)` in batches of `batch` (what one maintainer fetch
 * typically delivers), each at the Kafka offset of its LId, and returns the bytes of the
 * stored values. The benchmarks time this loop.
 */
export async function appendNumbered(
  store: FlStore,
  count: number,
  record: (lid: number) => LogRecord,
  batch = 1000,
): Promise<number> {
  let bytes = 0;
  for (let from = 1; from <= count; from += batch) {
    const slice = [];
    for (let lid = from; lid < from + batch && lid <= count; lid++) {
      const r = record(lid);
      const value = encodeLog(r);
      bytes += value.length;
      slice.push({ record: r, value, offset: String(lid) });
    }
    await store.append(slice);
  }
  return bytes;
}
