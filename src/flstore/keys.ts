import { hashTag, type LogRecord } from '../record';

/** What the indexes need of one record; persisted per record in the segment index file. */
export interface RecordKeys {
  id: string;
  seed: string;
  /** Distinct tag hashes (FNV-1a 64 of `key:value`, decimal). */
  hashes: string[];
}

export function recordKeys(r: LogRecord): RecordKeys {
  const hashes = new Set<string>();
  for (const [k, v] of Object.entries(r.tags)) hashes.add(hashTag(k, v));
  return { id: r.id, seed: r.seed, hashes: [...hashes] };
}
