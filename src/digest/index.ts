/**
 * 128-bit digests of keys in typed-array tables: the stages' large sets and maps of ids and
 * hashes (the queues' log index and in-flight releases, the filter's dedup window, the
 * sequencer's recent ids) without a string or a V8 Map entry per key.
 */
export { DigestMap } from './digest-map';
export { DigestSet } from './digest-set';
export { idDigest } from './id-digest';
