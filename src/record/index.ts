/** The record module: validation, hashing and wire formats shared by every stage. */
export * from './types';
export {
  parseUint64,
  isCanonicalUint64,
  uint64ToBigInt,
  bigIntToUint64,
  UINT64_MAX,
} from './uint64';
export type { Uint64ErrorCode } from './uint64';
export {
  parseJson,
  parseJsonBytes,
  isJsonNumber,
  isJsonObject,
  DEFAULT_MAX_JSON_DEPTH,
} from './json';
export type { JsonNumber } from './json';
export { hashTag, hashTagBigInt, fnv1a64, fnv1a64Decimal } from './hash';
export { normalizeRecord, recordByteSize } from './normalize';
export type { RecordForm } from './normalize';
export {
  encodeIngest,
  decodeIngest,
  encodeLog,
  encodeLogText,
  decodeLog,
  toPublicJson,
  isV1,
} from './codec';
export type { PublicRecord } from './codec';
export {
  encodePack,
  unpack,
  isPack,
  packValues,
  chunkForPacks,
  packedSize,
  MAX_PACK_BYTES,
} from './pack';
export { logKeysOf, encodeLogKeys, decodeLogKeys, MAX_LOG_KEYS_BYTES } from './log-keys';
export type { LogKeys } from './log-keys';
export { parseExternalIngest } from './external';
export { completeIngest, isoAt } from './ingest';
export type { ExternalIngestContext } from './external';
export { encodeFrame, FrameDecoder, FramingError, DEFAULT_MAX_FRAME_BYTES } from './frame';
export type { Frame, FrameType, DecodedFrame } from './frame';
