/**
 * Fuzzes the GoChariots-compatible TCP listener (SPEC §3.2, §2.8; issue 5 point 3) over
 * real sockets, without a broker: arbitrary byte streams (random bytes, valid frames with
 * random payloads, unknown type bytes, truncated frames, zero and oversized declared
 * lengths), split at random points. An independent model of the framing predicts, per
 * stream, which frames the server sees, whether it must close the connection (framing
 * lost) and which known-valid records must arrive. Asserted: the listener stays up (a
 * valid frame on a fresh connection is still accepted), the server closes exactly the
 * connections whose framing broke, nothing is logged at error level, no unhandled error,
 * every valid record framed before a break arrives, and only valid records reach the sink.
 * FUZZ_RUNS=<n> scales the number of runs.
 */
import fc from 'fast-check';
import { connect, type Socket } from 'node:net';
import { DEFAULT_RECORD_LIMITS, encodeFrame, type IngestRecord } from '../../src/record';
import type { AppendOutcome } from '../../src/stages/batcher/sink';
import { TcpIngest } from '../../src/stages/batcher/tcp';
import { FakeSink } from '../../src/stages/batcher/test-helpers';
import {
  capturingLogger,
  deepText,
  GO_FIELDS,
  prototypeProblem,
  randomBytes,
  recordProblem,
  recordText,
  validGoRecordText,
  valueText,
} from './helpers';

const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const MAX_FRAME = 8192;
const limits = DEFAULT_RECORD_LIMITS;

/** Validates what it is given (against an independent model of a record) and keeps ids. */
class CheckingSink extends FakeSink {
  readonly ids = new Map<string, number>();
  readonly problems: string[] = [];
  count = 0;
  /** Called after every append, so waiters need not poll. */
  onAppend: (() => void) | undefined;
  override capacity = 1_000_000;

  async append(records: IngestRecord[]): Promise<AppendOutcome[]> {
    for (const r of records) {
      const p = recordProblem(r, limits);
      if (p) this.problems.push(`${p}: ${JSON.stringify(r).slice(0, 300)}`);
      this.ids.set(r.id, (this.ids.get(r.id) ?? 0) + 1);
      this.count++;
    }
    this.onAppend?.();
    return records.map(() => null);
  }
}

// ---------------------------------------------------------------------------------------
// Stream pieces. A piece is bytes plus, for a valid frame, the ids it must deliver.

interface Piece {
  bytes: Buffer;
  /** payload text → ids, for frames valid by construction. */
  valid?: { type: 'r' | 's'; payload: string; ids: string[] };
}

let nextId = 0;
const freshId = () => `tcp-${nextId++}`;

const header = (n: number, type?: number): Buffer => {
  const b = Buffer.alloc(type === undefined ? 4 : 5);
  b.writeUInt32BE(n >>> 0, 0);
  if (type !== undefined) b[4] = type;
  return b;
};

const goRecord = recordText(GO_FIELDS);
const payload: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 5, arbitrary: goRecord.map((t) => Buffer.from(t)) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof({ weight: 4, arbitrary: goRecord }, { weight: 1, arbitrary: valueText }), {
        maxLength: 5,
      })
      .map((xs) => Buffer.from(`[${xs.join(',')}]`)),
  },
  { weight: 2, arbitrary: valueText.map((t) => Buffer.from(t)) },
  { weight: 1, arbitrary: randomBytes },
  { weight: 1, arbitrary: deepText.filter((t) => t.length < MAX_FRAME).map((t) => Buffer.from(t)) },
);

const validPiece: fc.Arbitrary<Piece> = fc
  .tuple(fc.constantFrom<'r' | 's'>('r', 's'), fc.integer({ min: 1, max: 3 }))
  .chain(([type, k]) => {
    const ids = Array.from({ length: type === 'r' ? 1 : k }, freshId);
    return fc.tuple(...ids.map((id) => validGoRecordText(id))).map((texts): Piece => {
      const text = type === 'r' ? texts[0] : `[${texts.join(',')}]`;
      return { bytes: encodeFrame(type, text), valid: { type, payload: text, ids } };
    });
  });

const piece: fc.Arbitrary<Piece> = fc.oneof(
  // well-framed, valid records
  { weight: 4, arbitrary: validPiece },
  // well-framed, arbitrary payloads as 'r' or 's'
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom<'r' | 's'>('r', 's'), payload)
      .filter(([, p]) => p.length < MAX_FRAME)
      .map(([t, p]) => ({ bytes: encodeFrame(t, p) })),
  },
  // well-framed, unknown type byte (skipped, connection goes on)
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0x72 && b !== 0x73),
        payload.filter((p) => p.length < MAX_FRAME),
      )
      .map(([t, p]) => ({ bytes: Buffer.concat([header(p.length + 1, t), p]) })),
  },
  // a frame exactly at the limit (random body)
  {
    weight: 1,
    arbitrary: fc.constantFrom(0x72, 0x73, 0x00).map((t) => ({
      bytes: Buffer.concat([header(MAX_FRAME, t), Buffer.alloc(MAX_FRAME - 1, 0x20)]),
    })),
  },
  // truncated frame: a prefix of a frame (the following bytes fill it up)
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.oneof(
          validPiece.map((p) => p.bytes),
          payload.map((p) => encodeFrame('r', p)),
        ),
        fc.nat(),
      )
      .map(([b, cut]) => ({ bytes: b.subarray(0, cut % b.length) })),
  },
  // declared length 0, just above the limit, or anywhere up to 2^32-1
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.constantFrom(0, MAX_FRAME + 1, 0xffffffff, 0x7fffffff),
        fc.integer({ min: MAX_FRAME + 1, max: 0xffffffff }),
      )
      .map((n) => ({ bytes: header(n) })),
  },
  // a declared length that is fine but more than what follows
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 2, max: MAX_FRAME }), fc.uint8Array({ maxLength: 50 }))
      .map(([n, b]) => ({ bytes: Buffer.concat([header(n, 0x72), Buffer.from(b)]) })),
  },
  // raw noise
  { weight: 1, arbitrary: randomBytes.map((b) => ({ bytes: b })) },
);

// ---------------------------------------------------------------------------------------
// The model of the framing: what the server must see in a stream that starts between frames.

interface Prediction {
  /** The framing breaks (length 0 or above the limit): the server closes the connection. */
  fatal: boolean;
  /** The stream ends inside a frame. */
  partial: boolean;
  /** Ids of valid records in frames completed before any break. */
  ids: string[];
}

function predict(stream: Buffer, pieces: Piece[]): Prediction {
  const known = new Map<string, string[]>();
  for (const p of pieces) if (p.valid) known.set(`${p.valid.type}${p.valid.payload}`, p.valid.ids);
  const ids: string[] = [];
  let pos = 0;
  while (pos < stream.length) {
    if (stream.length - pos < 4) return { fatal: false, partial: true, ids };
    const n = stream.readUInt32BE(pos);
    if (n === 0 || n > MAX_FRAME) return { fatal: true, partial: false, ids };
    if (stream.length - pos - 4 < n) return { fatal: false, partial: true, ids };
    const body = stream.subarray(pos + 4, pos + 4 + n);
    const match = known.get(`${String.fromCharCode(body[0])}${body.subarray(1).toString('utf8')}`);
    // The utf8 round trip must be exact for a match to count (random bytes may not be).
    if (match && Buffer.from(body.subarray(1).toString('utf8')).equals(body.subarray(1)))
      ids.push(...match);
    pos += 4 + n;
  }
  return { fatal: false, partial: false, ids };
}

// ---------------------------------------------------------------------------------------
// Connections.

const log = capturingLogger();
const sink = new CheckingSink();
let tcp: TcpIngest;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
let streams = 0;
let bytesSent = 0;
let fatalStreams = 0;
let connectionsOpened = 0;

interface Conn {
  socket: Socket;
  closed: Promise<void>;
  isClosed: boolean;
}

function open(): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: tcp.port });
    socket.setNoDelay(true);
    const conn: Conn = { socket, isClosed: false, closed: Promise.resolve() };
    conn.closed = new Promise<void>((r) =>
      socket.on('close', () => {
        conn.isClosed = true;
        r();
      }),
    );
    // The server may cut us off mid-write (framing lost): EPIPE/ECONNRESET are expected.
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      connectionsOpened++;
      resolve(conn);
    });
    socket.once('error', reject);
  });
}

const write = (s: Socket, b: Buffer) =>
  new Promise<void>((r) => {
    if (s.destroyed) return r();
    s.write(b, () => r());
  });

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForIds(ids: string[], what: string): Promise<void> {
  const missing = () => ids.filter((id) => !sink.ids.has(id));
  if (missing().length === 0) return;
  try {
    await within(
      new Promise<void>((resolve) => {
        sink.onAppend = () => {
          if (missing().length === 0) resolve();
        };
      }),
      5000,
      `valid records never arrived: ${ids} (${what})`,
    );
  } finally {
    sink.onAppend = undefined;
  }
}

function assertClean(what: string): void {
  if (sink.problems.length > 0)
    throw new Error(`invalid record reached the sink: ${sink.problems[0]}`);
  if (log.errors.length > 0) throw new Error(`error logged: ${log.errors[0]} (${what})`);
  if (unhandled.length > 0) throw new Error(`unhandled: ${String(unhandled[0])} (${what})`);
  const pp = prototypeProblem();
  if (pp) throw new Error(pp);
}

/** A valid frame on a fresh connection is still taken: the listener is up. */
async function probeListener(): Promise<void> {
  const id = freshId();
  const c = await open();
  await write(c.socket, encodeFrame('r', `{"Id":"${id}","Tags":{"probe":"1"}}`));
  await waitForIds([id], 'liveness probe');
  c.socket.destroy();
}

const POOL = 3;
const pool: Array<Conn | undefined> = new Array(POOL).fill(undefined);

async function runStream(slot: number, pieces: Piece[], cuts: number[]): Promise<void> {
  const stream = Buffer.concat(pieces.map((p) => p.bytes));
  const expected = predict(stream, pieces);
  let conn = pool[slot];
  if (!conn || conn.isClosed) conn = pool[slot] = await open();
  streams++;
  bytesSent += stream.length;
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const at of [...points, stream.length]) {
    if (at > from) await write(conn.socket, stream.subarray(from, at));
    from = at;
  }
  const what = `stream of ${stream.length} bytes: ${stream.toString('hex').slice(0, 200)}`;
  if (expected.fatal) {
    fatalStreams++;
    await within(
      conn.closed,
      5000,
      `server did not close a connection whose framing broke (${what})`,
    );
    pool[slot] = undefined;
  } else if (expected.partial) {
    // Ends mid-frame: the next stream would be read as its continuation. Start over.
    conn.socket.destroy();
    pool[slot] = undefined;
  }
  await waitForIds(expected.ids, what);
  if (!expected.fatal && conn.isClosed && !expected.partial)
    throw new Error(`server closed a connection whose framing was intact (${what})`);
  assertClean(what);
}

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  tcp = new TcpIngest({
    host: '127.0.0.1',
    port: 0,
    maxConnections: 64,
    maxFrameBytes: MAX_FRAME,
    idleTimeoutMs: 60_000,
    sink,
    dcId: 5,
    limits,
    logger: log.logger,
  });
  await tcp.listen();
});

afterAll(async () => {
  for (const c of pool) c?.socket.destroy();
  await tcp.close();
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  console.log(
    `tcp fuzz: ${streams} streams, ${bytesSent} bytes, ${fatalStreams} with broken framing, ${connectionsOpened} connections, ${sink.count} records stored`,
  );
});

describe('TCP fuzz (no broker)', () => {
  it('survives arbitrary byte streams split at random points; only valid records get in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: POOL - 1 }),
        fc.array(piece, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        async (slot, pieces, cuts) => {
          await runStream(slot, pieces, cuts);
          if (streams % 1000 === 0) await probeListener();
        },
      ),
      { numRuns: runs(9000) },
    );
    await probeListener();
  });

  it('survives pure noise, byte by byte and in bulk', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: POOL - 1 }),
        fc.uint8Array({ minLength: 1, maxLength: 2000 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (slot, bytes, cuts) => runStream(slot, [{ bytes: Buffer.from(bytes) }], cuts),
      ),
      { numRuns: runs(1500) },
    );
    await probeListener();
    assertClean('end');
  });
});
