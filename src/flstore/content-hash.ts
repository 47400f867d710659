import { createHash } from 'node:crypto';
import { toPublicJson } from '../record';
import type { StoreReader } from './types';

/**
 * SHA-256 of the store's records as NDJSON (one `toPublicJson` line per record, LId order):
 * the same bytes `chariots replay --from-lid 1` prints, so a rebuilt store, a live one and a
 * replay can be compared with one hash.
 */
export async function contentHash(store: StoreReader, chunk = 1000): Promise<string> {
  const h = createHash('sha256');
  for (let lid = 1; lid <= store.lastLid();) {
    const recs = await store.range(lid, chunk);
    for (const r of recs) h.update(`${JSON.stringify(toPublicJson(r))}\n`);
    lid += recs.length;
    if (recs.length === 0) break;
  }
  return h.digest('hex');
}
