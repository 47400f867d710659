import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ChariotsError } from '../../errors';
import type { RecordSink } from './sink';

export interface AdmissionOptions {
  sink: RecordSink;
  /** Sum of the declared bodies of the requests being read or answered. */
  maxInflightBodyBytes: number;
  /** What a body without Content-Length (chunked) may grow to, so what it reserves. */
  bodyLimitBytes: number;
}

const overloaded = (why: string) =>
  new ChariotsError('CHARIOTS_ERR_OVERLOADED', `${why}; retry later`);

/**
 * Reads what the client still sends of a refused request's body and throws it away, so the
 * answer leaves on a connection in a clean state. HTTP/1.1 lets a server answer before the
 * body is read only if it then reads the rest or closes; Node's server does neither reliably
 * on a keep-alive connection: with fetch (undici) clients about 3 % of such early 429s were
 * never received and the client waited until its own timeout (docs/reliability.md, "Overload").
 * Discarding costs neither memory nor parsing. A body that may be larger than bodyLimitBytes
 * is not read: the answer closes the connection instead (`Connection: close`).
 */
export function discardBody(
  req: IncomingMessage,
  limitBytes: number,
): Promise<'drained' | 'close'> {
  if (req.readableEnded || req.complete) return Promise.resolve('drained');
  const declared = Number(req.headers['content-length']);
  if (!(Number.isSafeInteger(declared) && declared <= limitBytes)) return Promise.resolve('close');
  return new Promise((resolve) => {
    const finish = (how: 'drained' | 'close') => {
      req.off('end', onEnd).off('close', onClose).off('error', onClose);
      resolve(how);
    };
    const onEnd = () => finish('drained');
    const onClose = () => finish('close');
    req.on('end', onEnd).on('close', onClose).on('error', onClose);
    req.resume();
  });
}

/**
 * An onRequest hook for the append routes: it refuses with 429 BEFORE the body is parsed or
 * buffered, so a flood costs neither the memory of its bodies nor the CPU of parsing them.
 * Without it, every concurrent request buffers up to bodyLimitBytes and parses it only to
 * learn that the producer is full. One request is always let in, so a body larger than the
 * budget still goes through on an idle batcher.
 */
export function admissionHook(opts: AdmissionOptions) {
  let inflight = 0;
  const refuse = async (req: FastifyRequest, reply: FastifyReply, why: string) => {
    if ((await discardBody(req.raw, opts.bodyLimitBytes)) === 'close')
      void reply.header('connection', 'close');
    return overloaded(why);
  };
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const { sink } = opts;
    if (!sink.hasRoom(0))
      throw await refuse(
        req,
        reply,
        sink.whyFull?.() ?? `the broker is not keeping up (${sink.pending} records waiting)`,
      );
    const declared = Number(req.headers['content-length']);
    const bytes = Math.min(
      Number.isSafeInteger(declared) && declared >= 0 ? declared : opts.bodyLimitBytes,
      opts.bodyLimitBytes,
    );
    if (inflight > 0 && inflight + bytes > opts.maxInflightBodyBytes)
      throw await refuse(req, reply, `too many request bodies in progress (${inflight} bytes)`);
    inflight += bytes;
    // 'close' fires once the answer is sent or the connection died, whichever comes first.
    reply.raw.once('close', () => (inflight -= bytes));
  };
}
