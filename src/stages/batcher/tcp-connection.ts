import type { Socket } from 'node:net';
import { isChariotsError } from '../../errors';
import type { Logger } from '../../logger';
import {
  FrameDecoder,
  FramingError,
  normalizeRecord,
  parseJsonBytes,
  type DecodedFrame,
  type IngestRecord,
  type RecordLimits,
} from '../../record';
import { toIngest } from './assign';
import type { RecordSink } from './sink';

export interface ConnectionDeps {
  sink: RecordSink;
  dcId: number;
  limits: RecordLimits;
  maxFrameBytes: number;
  idleTimeoutMs: number;
  logger: Logger;
  /** True while the listener shuts down: stop waiting for producer room. */
  closing: () => boolean;
}

/**
 * Reading pauses above this share of the producer's limits (and of maxEventLoopDelayMs), so
 * TCP clients feel the broker's pace and unread data waits in the kernel, not in our memory.
 * Half, not more: TCP polls for room every few ms while an HTTP request asks once, on arrival,
 * so with 80 % TCP took all the room and HTTP clients got 0 acknowledged records/s for the
 * flood test's whole run (docs/reliability.md, "Overload"); the other half is theirs.
 */
const HIGH_WATER = 0.5;
const ROOM_POLL_MS = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One GoChariots TCP connection: frames in, records to the sink, nothing back
 * (fire-and-forget, as GoChariots). Chunks are handled strictly in order; the socket is
 * paused while a chunk's records wait for producer room. A bad record or frame is logged
 * and skipped; lost framing closes the connection after the frames before it went through.
 * Resolves `done` once everything read from the socket was handed to the sink.
 */
export function serveConnection(socket: Socket, deps: ConnectionDeps): { done: Promise<void> } {
  const remote = `${socket.remoteAddress}:${socket.remotePort}`;
  const log = deps.logger.child({ remote });
  const decoder = new FrameDecoder({ maxFrameBytes: deps.maxFrameBytes });
  let chain: Promise<void> = Promise.resolve();
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));

  socket.setTimeout(deps.idleTimeoutMs, () => {
    log.info({ idleTimeoutMs: deps.idleTimeoutMs }, 'TCP connection idle; closing');
    socket.end();
  });
  socket.on('error', (e) => log.debug({ err: e }, 'TCP connection error'));
  socket.on('close', () => void chain.then(finished));

  const toRecords = (payload: Buffer, type: 'r' | 's'): IngestRecord[] => {
    const value = parseJsonBytes(payload);
    const items = type === 'r' ? [value] : Array.isArray(value) ? value : undefined;
    if (!items) {
      log.warn({ type }, "TCP 's' frame is not a JSON array; skipped");
      return [];
    }
    const out: IngestRecord[] = [];
    items.forEach((item, index) => {
      try {
        out.push(toIngest(normalizeRecord(item, 'tcp', deps.limits), deps.dcId));
      } catch (e) {
        if (!isChariotsError(e)) throw e;
        log.warn({ code: e.code, index, err: e.message }, 'bad TCP record skipped');
      }
    });
    return out;
  };

  const waitForRoom = async (n: number): Promise<void> => {
    const { sink } = deps;
    while (!sink.hasRoom(n, HIGH_WATER) && !deps.closing()) await sleep(ROOM_POLL_MS);
  };

  const handle = async (frames: DecodedFrame[]): Promise<void> => {
    for (const f of frames) {
      if (!f.ok) {
        log.warn({ code: f.error.code, err: f.error.message }, 'bad TCP frame skipped');
        continue;
      }
      // Before parsing too: parsing is most of a frame's CPU, and while the event loop lags
      // (loop-lag.ts) or the producer is full it should be spent on nothing.
      await waitForRoom(1);
      let records: IngestRecord[];
      try {
        records = toRecords(f.payload, f.type);
      } catch (e) {
        if (!isChariotsError(e)) throw e;
        log.warn({ code: e.code, err: e.message }, 'bad TCP frame payload skipped');
        continue;
      }
      if (records.length === 0) continue;
      await waitForRoom(records.length);
      // Fire-and-forget: the client gets no answer, failures can only be logged.
      deps.sink.append(records).then(
        (outcomes) => {
          const failed = outcomes.filter((o) => o !== null);
          if (failed.length > 0)
            log.warn(
              { records: failed.length, code: failed[0]?.code },
              'TCP records not acknowledged by the broker; dropped',
            );
        },
        (e: unknown) =>
          log.warn({ err: e, records: records.length }, 'TCP records refused; dropped'),
      );
    }
  };

  socket.on('data', (chunk: Buffer) => {
    let frames: DecodedFrame[];
    let fatal: FramingError | undefined;
    try {
      frames = decoder.push(chunk);
    } catch (e) {
      if (!(e instanceof FramingError)) throw e;
      frames = e.frames;
      fatal = e;
    }
    socket.pause();
    chain = chain
      .then(() => handle(frames))
      .catch((e: unknown) => log.error({ err: e }, 'TCP frame handling failed'))
      .then(() => {
        if (fatal) {
          log.warn(
            { code: fatal.code, err: fatal.message },
            'TCP framing lost; closing the connection',
          );
          socket.destroy();
        } else if (!socket.destroyed) socket.resume();
      });
  });
  return { done };
}
