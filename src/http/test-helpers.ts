import type { IncomingMessage } from 'node:http';
import pino from 'pino';
import type { StoreReader } from '../flstore/types';
import { Health } from '../health';
import { createApp } from './app';
import type { Authenticator } from './auth';
import { registerReadRoutes } from './reads';

/** A maintainer's read API over `store` (what `chariots start maintainer` serves), not listening. */
export async function readApiApp(store: StoreReader, auth?: Authenticator) {
  const app = createApp({
    logger: pino({ level: 'silent' }),
    health: new Health(),
    bodyLimitBytes: 1 << 20,
    auth,
  });
  await app.register(registerReadRoutes, { store });
  return app;
}

/**
 * Appends the NDJSON lines of a streaming response to `lines` as they arrive, so a test can
 * wait for the stream to reach a count; a partial line waits for the chunk that ends it.
 */
export function collectLines(res: IncomingMessage, lines: string[]): void {
  let buf = '';
  res.setEncoding('utf8');
  res.on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
}
