/**
 * The benchmark's records (issue 8 §1): ~100 bytes of tags each, spread over 10 000 seeds,
 * 20 % of them with a prehash on an EARLIER record of the same seed. Ids are
 * `<runTag>-<index>`, so whoever sees a record in the log knows which send it answers.
 */
import { hashTag } from '../src/record';
import { prng } from '../test/helpers/prng';

export interface BenchRecord {
  id: string;
  seed: number;
  /** Decimal uint64, or undefined when the record has no prerequisite. */
  prehash?: string;
  tags: Record<string, string>;
}

export const SEEDS = 10_000;
export const PREHASH_SHARE = 0.2;

const PAD = 'x'.repeat(56);

/**
 * `count` records. Records that have an earlier record of their seed get a prehash on it
 * with probability 0.2 / (share of records that have one), so 20 % of ALL records carry one.
 */
export function makeRecords(runTag: string, count: number, seeds = SEEDS): BenchRecord[] {
  // Seeded, so every run of a workload sends the same shape.
  const rand = prng(count * 31 + seeds);
  const seedOf = new Array<number>(count);
  for (let i = 0; i < count; i++) seedOf[i] = Math.floor(rand() * seeds);
  const lastOfSeed = new Map<number, number>();
  let withPredecessor = 0;
  for (let i = 0; i < count; i++) {
    if (lastOfSeed.has(seedOf[i])) withPredecessor++;
    lastOfSeed.set(seedOf[i], i);
  }
  lastOfSeed.clear();
  const p = withPredecessor > 0 ? Math.min(1, (PREHASH_SHARE * count) / withPredecessor) : 0;
  const out: BenchRecord[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const seed = seedOf[i];
    const id = `${runTag}-${i}`;
    const prev = lastOfSeed.get(seed);
    const r: BenchRecord = { id, seed, tags: { n: id, kind: 'bench', pad: PAD } };
    if (prev !== undefined && rand() < p) r.prehash = hashTag('n', `${runTag}-${prev}`);
    lastOfSeed.set(seed, i);
    out[i] = r;
  }
  return out;
}

/** SPEC §1 JSON (HTTP and direct Kafka): the prehash as a decimal string. */
export function toSpecJson(r: BenchRecord): string {
  const pre = r.prehash ? `,"prehash":"${r.prehash}"` : '';
  return `{"id":"${r.id}","seed":${r.seed}${pre},"tags":${JSON.stringify(r.tags)}}`;
}

/** GoChariots TCP JSON (§3.2): Go field names, the hash as a bare JSON number. */
export function toGoJson(r: BenchRecord): string {
  const pre = r.prehash ? `,"Pre":{"Hash":${r.prehash}}` : '';
  return `{"Id":"${r.id}","Host":0,"Tags":${JSON.stringify(r.tags)}${pre},"Seed":${r.seed}}`;
}

/** The index of a bench id in its run, or -1 when the id is not of this run. */
export function indexOf(id: string, runTag: string): number {
  if (!id.startsWith(runTag) || id.charCodeAt(runTag.length) !== 45 /* '-' */) return -1;
  const n = Number(id.slice(runTag.length + 1));
  return Number.isInteger(n) ? n : -1;
}
