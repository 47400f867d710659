import { hashTag } from './hash';
import type { IngestRecord, LogRecord } from './types';

/**
 * A prerequisite, as a string key:
 *   `h:<seed>:<hash>`  some record with this seed and a tag hashing to <hash> is in the log
 *   `p:<id>`           the record with this id is in the log
 *   `t:<host>:<toid>`  the record with TOId <toid> from datacenter <host> is in the log
 * The same keys describe what a log record provides, so "satisfied" is set membership.
 */
export type PrereqKey = string;

export function prerequisitesOf(r: IngestRecord): PrereqKey[] {
  const keys: PrereqKey[] = [];
  for (const h of r.prehash) keys.push(`h:${r.seed}:${h}`);
  for (const p of r.parent) keys.push(`p:${p}`);
  if (r.prehost !== undefined && r.pretoid !== undefined && r.pretoid > 0)
    keys.push(`t:${r.prehost}:${r.pretoid}`);
  if (r.remote) {
    // Guarantee 7: after every earlier record of its origin (TOIds are dense per origin) and
    // after everything its origin's log held before it, from any datacenter (vector clock).
    if (r.remote.toid > 1) keys.push(`t:${r.host}:${r.remote.toid - 1}`);
    for (const [dc, toid] of Object.entries(r.remote.clock)) {
      if (Number(dc) !== r.host && toid > 0) keys.push(`t:${dc}:${toid}`);
    }
  }
  return keys;
}

/** What a record provides before it has a TOId (released, not yet sequenced). */
export function providedBeforeSequencing(r: IngestRecord): PrereqKey[] {
  const keys: PrereqKey[] = [`p:${r.id}`];
  // A replicated record already has its TOId (its origin's); a local one gets it when sequenced.
  if (r.remote) keys.push(`t:${r.host}:${r.remote.toid}`);
  for (const [k, v] of Object.entries(r.tags)) keys.push(`h:${r.seed}:${hashTag(k, v)}`);
  return keys;
}

/** What a record in the log provides to records that wait for it. */
export function providedBy(r: LogRecord): PrereqKey[] {
  const keys = providedBeforeSequencing(r);
  if (!r.remote) keys.push(`t:${r.host}:${r.toid}`);
  return keys;
}
