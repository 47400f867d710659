import type { FastifyInstance } from 'fastify';

/**
 * Makes every request body of this (encapsulated) context arrive as the raw bytes, whatever
 * its content type, or none. Records must not go through JSON.parse (it rounds uint64s such
 * as 9489172654252433228), and clients are lenient about content types: GoChariots users
 * send application/json, others text/plain, NDJSON, or forget the header. Routes parse the
 * bytes themselves with the record module's lossless parser. The body limit still applies.
 */
export function acceptRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}

/** The raw body as bytes; an absent body is empty. */
export function rawBody(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.alloc(0);
}
