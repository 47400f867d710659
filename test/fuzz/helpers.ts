/**
 * Shared pieces of the fuzz tests (test/fuzz/*.fuzz.test.ts): an independent re-validation
 * of every record that reached a sink, JSON-text arbitraries that go beyond what
 * JSON.stringify can produce (duplicate keys, huge / negative / fractional number literals,
 * deep nesting, lone surrogates, prototype-pollution keys), and a logger that records
 * error-level lines so a test can assert that nothing failed unexpectedly.
 */
import fc from 'fast-check';
import pino from 'pino';
import { Writable } from 'node:stream';
import type { IngestRecord, RecordLimits } from '../../src/record';

// ---------------------------------------------------------------------------------------
// Re-validation of a record as it reached the sink (SPEC §1), written independently of
// src/record so that a bug there cannot hide itself.

const UINT64_MAX = 18446744073709551615n;
const CANONICAL = /^(0|[1-9][0-9]*)$/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const LONE_SURROGATE = /[\ud800-\udfff]/u;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const FIELDS = new Set([
  'id',
  'host',
  'seed',
  'prehash',
  'parent',
  'prehost',
  'pretoid',
  'tags',
  'receivedAt',
]);

const isUint64 = (s: unknown): boolean =>
  typeof s === 'string' && CANONICAL.test(s) && BigInt(s) <= UINT64_MAX;

const isId = (s: unknown, limits: RecordLimits): boolean =>
  typeof s === 'string' &&
  s.length >= 1 &&
  s.length <= limits.maxIdLength &&
  !CONTROL.test(s) &&
  !LONE_SURROGATE.test(s);

/** Why `r` is not a valid ingest record, or undefined when it is. */
export function recordProblem(r: IngestRecord, limits: RecordLimits): string | undefined {
  if (typeof r !== 'object' || r === null) return 'not an object';
  if (Object.getPrototypeOf(r) !== Object.prototype) return 'record has a foreign prototype';
  for (const k of Object.keys(r)) if (!FIELDS.has(k)) return `unexpected field ${k}`;
  if (!isId(r.id, limits)) return `bad id ${JSON.stringify(r.id)}`;
  if (!Number.isInteger(r.host) || r.host < 1 || r.host > 0xffff) return `bad host ${r.host}`;
  if (!isUint64(r.seed)) return `bad seed ${JSON.stringify(r.seed)}`;
  if (!Array.isArray(r.prehash)) return 'prehash is not an array';
  for (const h of r.prehash)
    if (!isUint64(h) || h === '0') return `bad prehash ${JSON.stringify(h)}`;
  if (new Set(r.prehash).size !== r.prehash.length) return 'duplicate prehash';
  if (!Array.isArray(r.parent)) return 'parent is not an array';
  for (const p of r.parent) if (!isId(p, limits)) return `bad parent ${JSON.stringify(p)}`;
  if (new Set(r.parent).size !== r.parent.length) return 'duplicate parent';
  if (r.prehost !== undefined || r.pretoid !== undefined) {
    if (!Number.isInteger(r.prehost) || r.prehost! < 1 || r.prehost! > 0xffff)
      return `bad prehost ${r.prehost}`;
    if (!Number.isSafeInteger(r.pretoid) || r.pretoid! < 1) return `bad pretoid ${r.pretoid}`;
  }
  const prereqs = r.prehash.length + r.parent.length + (r.pretoid === undefined ? 0 : 1);
  if (prereqs > limits.maxPrerequisites) return `${prereqs} prerequisites`;
  const tags = r.tags;
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) return 'tags not an object';
  if (Object.getPrototypeOf(tags) !== Object.prototype) return 'tags have a foreign prototype';
  const keys = Object.keys(tags);
  if (keys.length > limits.maxTags) return `${keys.length} tags`;
  for (const k of keys) {
    const d = Object.getOwnPropertyDescriptor(tags, k);
    if (!d || !('value' in d)) return `tag ${k} is an accessor`;
    const v: unknown = d.value;
    if (typeof v !== 'string') return `tag ${k} is not a string`;
    if (k.length === 0 || k.length > limits.maxKeyLength) return `bad tag key length ${k.length}`;
    if (v.length > limits.maxValueLength) return `bad tag value length ${v.length}`;
    if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) return 'tag with a lone surrogate';
  }
  if (typeof r.receivedAt !== 'string' || !ISO.test(r.receivedAt)) return 'bad receivedAt';
  // It must survive the ingest encoding unchanged (JSON, every uint64 a string).
  const size = Buffer.byteLength(
    JSON.stringify({
      id: r.id,
      host: r.host,
      seed: r.seed,
      prehash: r.prehash,
      parent: r.parent,
      ...(r.pretoid === undefined ? {} : { prehost: r.prehost, pretoid: r.pretoid }),
      tags: r.tags,
    }),
  );
  if (size > limits.maxRecordBytes + 64) return `record of ${size} bytes`;
  return undefined;
}

/** Nothing may have been written onto Object.prototype / Array.prototype by a body. */
export function prototypeProblem(): string | undefined {
  const probe: Record<string, unknown> = {};
  for (const k of ['polluted', 'isAdmin', 'tags', 'seed', 'id', 'x', 'a', '0'])
    if (probe[k] !== undefined || ([] as unknown as Record<string, unknown>)[k] !== undefined)
      return `prototype polluted with ${k}`;
  if (Object.keys(Object.prototype).length > 0) return 'Object.prototype got enumerable keys';
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Loggers that remember error-level lines.

export interface CapturingLogger {
  logger: pino.Logger;
  errors: string[];
}

export function capturingLogger(): CapturingLogger {
  const errors: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          if ((JSON.parse(line) as { level: number }).level >= 50) errors.push(line);
        } catch {
          errors.push(line);
        }
      }
      cb();
    },
  });
  return { logger: pino({ level: 'error' }, stream), errors };
}

// ---------------------------------------------------------------------------------------
// JSON text arbitraries.

const q = (s: string): string => JSON.stringify(s);

/** Number literals: valid, huge, negative, fractional, exponent, leading zeros, -0. */
export const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '0',
    '-0',
    '1',
    '-1',
    '0.0',
    '1.0',
    '1.5',
    '1e3',
    '1E+2',
    '-1e-7',
    '1e400',
    '-1e400',
    '007',
    '00',
    '9007199254740993',
    '9489172654252433228',
    '18446744073709551615',
    '18446744073709551616',
    '36893488147419103232',
    '-18446744073709551615',
    '65535',
    '65536',
    '4294967296',
    '1'.repeat(400),
  ),
  fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }).map(String),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
);

/** Strings as JSON text: unicode, lone surrogates (escaped), control chars, digits, long. */
export const stringText: fc.Arbitrary<string> = fc.oneof(
  fc.string().map(q),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map(q),
  fc.string({ unit: 'binary', maxLength: 20 }).map(q),
  fc.stringMatching(/^[0-9]{0,25}$/).map(q),
  fc.constantFrom(
    q(''),
    q(' 1'),
    q('+1'),
    q('-1'),
    q('0x10'),
    q('18446744073709551616'),
    q('\u0000'),
    q('\u2028'),
    q('\ud800'),
    q('\udc00x'),
    q('a\nb'),
    q('__proto__'),
    '"\\ud83d\\ude00"',
    '"\\u0000"',
    '"bad escape \\x"',
    '"unterminated',
  ),
  fc
    .constantFrom(128, 129, 256, 257, 16384, 16385, 70000)
    .chain((n) => fc.constantFrom('x', 'é', '😀', '\u0001').map((c) => q(c.repeat(n)))),
);

/** Keys that try to reach prototypes or special properties. */
export const evilKey: fc.Arbitrary<string> = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
);

/** Deep nesting, up to far beyond the parser's depth limit. */
export const deepText: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(63, 64, 65, 1000, 100_000)),
    fc.constantFrom('array', 'object', 'mixed', 'unclosed'),
  )
  .map(([n, kind]) => {
    if (kind === 'array') return '['.repeat(n) + ']'.repeat(n);
    if (kind === 'object') return '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    if (kind === 'mixed') return '[{"a":'.repeat(n) + '1' + '}]'.repeat(n);
    return '['.repeat(n);
  });

/** Any JSON value as text (and some almost-JSON), with duplicate keys and evil keys. */
export const valueText: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    numberText,
    stringText,
    fc.constantFrom('true', 'false', 'null', '{}', '[]', 'NaN', 'undefined', '', "'x'"),
    fc.array(tie('v'), { maxLength: 5 }).map((xs) => `[${xs.join(',')}]`),
    fc
      .array(fc.tuple(fc.oneof(stringText, evilKey.map(q)), tie('v')), { maxLength: 5 })
      .map((kv) => `{${kv.map(([k, v]) => `${k}:${v}`).join(',')}}`),
    deepText,
  ),
})).v;

// ---------------------------------------------------------------------------------------
// Records: valid ones, and mutations of valid ones (field by field).

const uint64 = fc.oneof(
  fc.constantFrom(0n, 1n, (1n << 53n) + 1n, 9489172654252433228n, UINT64_MAX),
  fc.bigInt({ min: 0n, max: UINT64_MAX }),
);
const uint64Text = uint64.chain((n) => fc.constantFrom(String(n), q(String(n))));
const idText = fc
  .string({ minLength: 1, maxLength: 40 })
  .filter((s) => !CONTROL.test(s))
  .map(q);
const tagsText = fc
  .array(
    fc.tuple(
      fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), evilKey),
      fc.string({ maxLength: 20 }),
    ),
    { maxLength: 6 },
  )
  .map((kv) => `{${kv.map(([k, v]) => `${q(k)}:${q(v)}`).join(',')}}`);

/** A field's valid value text. */
const validField: Record<string, fc.Arbitrary<string>> = {
  tags: tagsText,
  seed: uint64Text,
  strseed: uint64.map((n) => q(String(n))),
  prehash: fc.oneof(
    uint64Text,
    fc.array(uint64Text, { maxLength: 5 }).map((a) => `[${a}]`),
  ),
  strhash: uint64.map((n) => q(String(n))),
  parent: fc.oneof(
    idText,
    fc.array(idText, { maxLength: 4 }).map((a) => `[${a}]`),
  ),
  prehost: fc.integer({ min: 1, max: 65535 }).map(String),
  pretoid: fc.integer({ min: 1, max: 1_000_000 }).map(String),
  id: idText,
  host: fc.integer({ min: 0, max: 65535 }).map(String),
};
export const RECORD_FIELDS = Object.keys(validField);

/** GoChariots' Go struct fields (TCP, §3.2), matched case-insensitively by the server. */
const goPre = fc
  .record(
    {
      Hash: validField.prehash,
      Host: validField.prehost,
      TOId: validField.pretoid,
      hash: fc.oneof(validField.prehash, valueText),
    },
    { requiredKeys: [] },
  )
  .map(
    (o) =>
      `{${Object.entries(o)
        .map(([k, v]) => `${q(k)}:${v}`)
        .join(',')}}`,
  );
Object.assign(validField, {
  Id: idText,
  Host: validField.host,
  Tags: tagsText,
  tags: tagsText,
  TAGS: tagsText,
  Seed: uint64Text,
  '\u017feed': uint64Text,
  Pre: goPre,
  pre: goPre,
  Parent: validField.parent,
  LId: fc.integer().map(String),
  Timestamp: fc.integer().map(String),
});
export const GO_FIELDS = [
  'Id',
  'Host',
  'Tags',
  'tags',
  'TAGS',
  'Seed',
  '\u017feed',
  'Pre',
  'pre',
  'Parent',
  'LId',
  'Timestamp',
];

/** A Go-style record valid by construction, with a known id. */
export function validGoRecordText(id: string): fc.Arbitrary<string> {
  return fc
    .record(
      {
        Tags: validField.Tags,
        Seed: validField.Seed,
        Pre: fc.record({ Hash: validField.prehash }, { requiredKeys: [] }).map(
          (o) =>
            `{${Object.entries(o)
              .map(([k, v]) => `${q(k)}:${v}`)
              .join(',')}}`,
        ),
        Host: validField.host,
      },
      { requiredKeys: [] },
    )
    .map((o) => {
      const parts = Object.entries(o).map(([k, v]) => `${q(k)}:${v}`);
      parts.push(`"Id":${q(id)}`);
      return `{${parts.join(',')}}`;
    });
}

/** `{"tags":{…},"seed":…}` possibly with mutated values, duplicate and unknown/evil keys. */
export function recordText(
  fieldNames: readonly string[] = RECORD_FIELDS,
  extraKeys: fc.Arbitrary<string> = fc.oneof(evilKey, fc.string({ maxLength: 8 })),
): fc.Arbitrary<string> {
  const entry = fc.oneof(
    // a field with a valid value (most of the time), or any value at all
    fc
      .constantFrom(...fieldNames)
      .chain((k) =>
        fc
          .oneof(
            { weight: 3, arbitrary: validField[k] ?? valueText },
            { weight: 1, arbitrary: valueText },
          )
          .map((v) => `${q(k)}:${v}`),
      ),
    fc.tuple(extraKeys, valueText).map(([k, v]) => `${q(k)}:${v}`),
  );
  return fc
    .array(entry, { maxLength: 8 })
    .map((entries) => `{${entries.join(',')}}`)
    .chain((t) =>
      // sometimes syntactically broken: a cut, a stray byte
      fc.oneof(
        { weight: 8, arbitrary: fc.constant(t) },
        {
          weight: 1,
          arbitrary: fc.nat({ max: Math.max(0, t.length - 1) }).map((i) => t.slice(0, i)),
        },
        {
          weight: 1,
          arbitrary: fc.nat({ max: t.length }).map((i) => `${t.slice(0, i)},${t.slice(i)}`),
        },
      ),
    );
}

/** A record that is valid by construction, with a known id (to check it is not lost). */
export function validRecordText(id: string): fc.Arbitrary<string> {
  return fc
    .record(
      {
        tags: validField.tags,
        seed: validField.seed,
        prehash: validField.prehash,
        host: validField.host,
      },
      { requiredKeys: [] },
    )
    .map((o) => {
      const parts = Object.entries(o).map(([k, v]) => `${q(k)}:${v}`);
      parts.push(`"id":${q(id)}`);
      return `{${parts.join(',')}}`;
    });
}

/** Random bytes, sometimes around valid UTF-8 / BOMs. */
export const randomBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.constantFrom(
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
    Buffer.from([0xc0, 0x80]),
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
    Buffer.from('{"tags":{"a":"\xff"}}', 'latin1'),
  ),
);
