/** flstore: the ordered log as checksummed segment files with indexes (SPEC §4). */
export { FlStore, type FlStoreOptions } from './store';
export type { AppendEntry, FsyncPolicy, StoreQuery, StoreReader } from './types';
export { crc32c } from './crc32c';
export { contentHash } from './content-hash';
