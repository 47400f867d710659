import { hashTagHalves } from '../../record/hash';
import type { IngestRecord } from '../../record';
import { uint64Halves } from '../../record/uint64';
import { idDigest } from '../../digest/id-digest';
import type { PrereqKey } from '../../record/prerequisites';

/**
 * Prerequisite keys (prerequisites.ts) as a kind and four uint32 words, for the tables that
 * hold them (log-index.ts, in-flight.ts, cascade.ts) — no key string to build, hash or keep:
 *   ID    `p:<id>`            the id's 128-bit digest (id-digest.ts says why that is enough)
 *   HASH  `h:<seed>:<hash>`   seed hi, seed lo, hash hi, hash lo: exact
 *   TOID  `t:<host>:<toid>`   host, toid hi, toid lo, 0: exact
 * Keys of different kinds live in different tables, so words never collide across kinds.
 */
export const KIND_ID = 0;
export const KIND_HASH = 1;
export const KIND_TOID = 2;

const TWO_32 = 4294967296;

/**
 * Writes the digest of a key into out[0..4) and returns its kind, or -1 for a key that names
 * nothing a record can provide (not canonical, e.g. the seed "007"; unknown prefix).
 */
export function digestKey(k: PrereqKey, out: Uint32Array): number {
  if (k.charCodeAt(1) !== 58 /* ':' */) return -1;
  switch (k.charCodeAt(0)) {
    case 104 /* h */: {
      const colon = k.indexOf(':', 2);
      return colon > 0 &&
        uint64Halves(k, 2, colon, out, 0) &&
        uint64Halves(k, colon + 1, k.length, out, 2)
        ? KIND_HASH
        : -1;
    }
    case 112 /* p */:
      idDigest(k, 2, out);
      return KIND_ID;
    case 116 /* t */: {
      const colon = k.indexOf(':', 2);
      const host = Number(k.slice(2, colon));
      const toid = Number(k.slice(colon + 1));
      if (colon < 0 || !Number.isSafeInteger(host) || !Number.isSafeInteger(toid)) return -1;
      toidWords(host, toid, out, 0);
      return KIND_TOID;
    }
    default:
      return -1;
  }
}

export function toidWords(host: number, toid: number, out: Uint32Array, at: number): void {
  out[at] = host;
  out[at + 1] = Math.floor(toid / TWO_32);
  out[at + 2] = toid >>> 0;
  out[at + 3] = 0;
}

/**
 * What a released record provides before it is sequenced (providedBeforeSequencing's keys,
 * same order), five words per key: kind, then the key's four words.
 */
export function providedDigests(r: IngestRecord): Uint32Array {
  const tags = Object.keys(r.tags);
  const out = new Uint32Array(5 * (1 + (r.remote ? 1 : 0) + tags.length));
  out[0] = KIND_ID;
  idDigest(r.id, 0, out, 1);
  let at = 5;
  if (r.remote) {
    out[at] = KIND_TOID;
    toidWords(r.host, r.remote.toid, out, at + 1);
    at += 5;
  }
  // Decoded records carry canonical seeds (codec.ts checks them), so this always succeeds;
  // a seed that did not parse would provide no hash key, as in the log index.
  if (!uint64Halves(r.seed, 0, r.seed.length, out, at + 1)) return out.subarray(0, at);
  const seedHi = out[at + 1];
  const seedLo = out[at + 2];
  for (const t of tags) {
    const [hi, lo] = hashTagHalves(t, r.tags[t]);
    out[at] = KIND_HASH;
    out[at + 1] = seedHi;
    out[at + 2] = seedLo;
    out[at + 3] = hi;
    out[at + 4] = lo;
    at += 5;
  }
  return out;
}
