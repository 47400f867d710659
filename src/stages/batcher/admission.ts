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
 * An onRequest hook for the append routes: it refuses with 429 BEFORE the body is read, so a
 * flood costs neither the memory of its bodies nor the CPU of parsing them. Without it, every
 * concurrent request buffers up to bodyLimitBytes and parses it only to learn that the
 * producer is full. One request is always let in, so a body larger than the budget still
 * goes through on an idle batcher.
 */
export function admissionHook(opts: AdmissionOptions) {
  let inflight = 0;
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const { sink } = opts;
    if (!sink.hasRoom(0))
      throw overloaded(`the broker is not keeping up (${sink.pending} records waiting)`);
    const declared = Number(req.headers['content-length']);
    const bytes = Math.min(
      Number.isSafeInteger(declared) && declared >= 0 ? declared : opts.bodyLimitBytes,
      opts.bodyLimitBytes,
    );
    if (inflight > 0 && inflight + bytes > opts.maxInflightBodyBytes)
      throw overloaded(`too many request bodies in progress (${inflight} bytes)`);
    inflight += bytes;
    // 'close' fires once the answer is sent or the connection died, whichever comes first.
    reply.raw.once('close', () => (inflight -= bytes));
  };
}
