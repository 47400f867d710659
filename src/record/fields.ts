import { isLosslessNumber } from 'lossless-json';
import { type ErrorCode, ValidationError } from '../errors';
import { isJsonObject } from './json';
import type { RecordLimits, Uint64String } from './types';
import { parseUint64, showValue, type Uint64ErrorCode } from './uint64';

/**
 * Readers for the individual record fields, shared by the §1 (http/kafka) and the Go-style
 * (tcp) forms. Each refuses with the field's own error code and names the field and value.
 * `null` is treated like an absent field everywhere (Go's decoder ignores null too).
 */

export function refuse(code: ErrorCode, field: string, message: string, value?: unknown): never {
  const details: Record<string, unknown> = { field };
  if (value !== undefined) details.value = showValue(value);
  throw new ValidationError(code, `${field}: ${message}`, { details });
}

/**
 * A bounded integer from a lossless JSON number (or a safe JS number from code-built input).
 * Only plain integer literals; strings are refused (hosts and TOIds are numbers in every
 * client GoChariots had).
 */
export function readInt(
  value: unknown,
  field: string,
  code: ErrorCode,
  min: number,
  max: number,
): number {
  let n: number | undefined;
  if (isLosslessNumber(value)) {
    if (/^-?(0|[1-9][0-9]{0,15})$/.test(value.value)) n = Number(value.value);
  } else if (typeof value === 'number' && Number.isSafeInteger(value)) {
    n = value;
  }
  if (n === undefined || n < min || n > max) {
    refuse(code, field, `must be an integer in ${min}..${max}; got ${showValue(value)}`, value);
  }
  return n;
}

/** One uint64 or a list of them; zeros dropped, duplicates removed, input order kept. */
export function readUint64List(
  value: unknown,
  field: string,
  code: Uint64ErrorCode,
  into: Set<Uint64String>,
): void {
  if (value === undefined || value === null) return;
  const items = Array.isArray(value) ? value : [value];
  for (let i = 0; i < items.length; i++) {
    const name = Array.isArray(value) ? `${field}[${i}]` : field;
    const h = parseUint64(items[i], name, code);
    if (h !== '0') into.add(h);
  }
}

// C0/C1 controls, DEL, and the JS line terminators that break line-oriented logs.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// With the `u` flag a surrogate class only matches unpaired surrogates.
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** True when `s` is well-formed Unicode (no unpaired surrogate), so its UTF-8 is exact. */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** Checks a record id (own `id` or a `parent` entry): 1..maxIdLength printable characters. */
export function checkId(
  value: unknown,
  field: string,
  code: ErrorCode,
  maxIdLength: number,
): string {
  if (typeof value !== 'string')
    refuse(code, field, `must be a string; got ${showValue(value)}`, value);
  if (value.length === 0) refuse(code, field, 'must not be empty', value);
  if (value.length > maxIdLength) {
    refuse(code, field, `is ${value.length} characters long; the limit is ${maxIdLength}`, value);
  }
  if (CONTROL.test(value) || !isWellFormed(value)) {
    refuse(code, field, 'must be printable: no control characters or unpaired surrogates', value);
  }
  return value;
}

/** `parent`/`Parent`: one id or a list of ids, deduplicated in input order. */
export function readParents(
  value: unknown,
  field: string,
  maxIdLength: number,
  into: Set<string>,
): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) =>
      into.add(checkId(v, `${field}[${i}]`, 'CHARIOTS_ERR_BAD_PARENT', maxIdLength)),
    );
  } else {
    into.add(checkId(value, field, 'CHARIOTS_ERR_BAD_PARENT', maxIdLength));
  }
}

/**
 * `tags`: an object of string → string. Keys are non-empty; both are well-formed Unicode
 * (the hash is over their UTF-8 bytes, which an unpaired surrogate does not have).
 * A `__proto__` key is stored with defineProperty so it stays an ordinary own key
 * (plain assignment would call the prototype setter and silently drop the tag).
 */
export function readTags(
  value: unknown,
  field: string,
  limits: RecordLimits,
): Record<string, string> {
  const tags: Record<string, string> = {};
  if (value === undefined || value === null) return tags;
  if (!isJsonObject(value)) {
    refuse(
      'CHARIOTS_ERR_BAD_TAGS',
      field,
      `must be an object of string → string; got ${showValue(value)}`,
      value,
    );
  }
  const keys = Object.keys(value);
  if (keys.length > limits.maxTags) {
    refuse(
      'CHARIOTS_ERR_TOO_MANY_TAGS',
      field,
      `has ${keys.length} tags; the limit is ${limits.maxTags}`,
    );
  }
  for (const key of keys) {
    const v = value[key];
    // Checked first, the field's name spelled only for a refusal (it was a JSON.stringify
    // per tag of every record).
    const ok =
      typeof v === 'string' &&
      key.length > 0 &&
      key.length <= limits.maxKeyLength &&
      v.length <= limits.maxValueLength &&
      isWellFormed(key) &&
      isWellFormed(v);
    if (!ok) refuseTag(field, key, v, limits);
    if (key === '__proto__') {
      Object.defineProperty(tags, key, {
        value: v,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    } else {
      tags[key] = v;
    }
  }
  return tags;
}

/** Refuses a tag that failed readTags' checks, naming the first rule it breaks. */
function refuseTag(field: string, key: string, v: unknown, limits: RecordLimits): never {
  const name = `${field}[${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)}]`;
  if (typeof v !== 'string')
    refuse('CHARIOTS_ERR_BAD_TAGS', name, `value must be a string; got ${showValue(v)}`, v);
  if (key.length === 0) refuse('CHARIOTS_ERR_BAD_TAGS', name, 'tag key must not be empty');
  if (key.length > limits.maxKeyLength) {
    refuse(
      'CHARIOTS_ERR_BAD_TAGS',
      name,
      `tag key is ${key.length} characters long; the limit is ${limits.maxKeyLength}`,
    );
  }
  if (v.length > limits.maxValueLength) {
    refuse(
      'CHARIOTS_ERR_BAD_TAGS',
      name,
      `value is ${v.length} characters long; the limit is ${limits.maxValueLength}`,
    );
  }
  if (!isWellFormed(key) || !isWellFormed(v)) {
    refuse(
      'CHARIOTS_ERR_BAD_TAGS',
      name,
      'tag key and value must be well-formed Unicode (no unpaired surrogates)',
    );
  }
  throw new Error('unreachable: refuseTag called for a valid tag');
}
