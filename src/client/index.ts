/**
 * The Chariots SDK: `import { ChariotsClient, hashTag } from 'chariots/client'`.
 * HTTP only (Node ≥ 20's fetch); see docs/sdk.md.
 */
export { ChariotsClient, hashTag } from './client';
export { ChariotsClientError } from './errors';
export type {
  AppendOptions,
  AppendRecord,
  AppendResult,
  BatchItemResult,
  ClientOptions,
  LogRecord,
  QueryOptions,
  QueryPage,
  QuerySelector,
  TailOptions,
  Uint64Like,
  Uint64String,
} from './types';
