/**
 * Admission over real sockets. A refused request's body is read and discarded before the 429
 * leaves, so the keep-alive connection is in a clean state for the next request (HTTP/1.1:
 * answer early only if the rest is then read or the connection closed); a body that may be
 * larger than bodyLimitBytes is not read, the connection is closed instead.
 */
import { connect } from 'node:net';
import { buildTestApp } from './test-helpers';

const BODY = JSON.stringify(
  Array.from({ length: 200 }, (_, i) => ({ id: `r${i}`, seed: 1, tags: { pad: 'x'.repeat(400) } })),
);

const until = async (cond: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('admission over real sockets', () => {
  it('answers a refused request only once its body arrived, on a connection that stays usable', async () => {
    const { app, sink } = await buildTestApp({ maxInflightBodyBytes: 1 << 20 });
    sink.pending = sink.capacity;
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = app.server.address() as { port: number };
      const sock = connect(port, '127.0.0.1');
      let got = '';
      sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
      const head = `POST /records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n`;
      sock.write(head + BODY.slice(0, 1000));
      await new Promise((r) => setTimeout(r, 300));
      // Before the fix the 429 left here, the rest of the body unread on a keep-alive connection.
      expect(got).toBe('');
      sock.write(BODY.slice(1000));
      await until(() => got.includes('HTTP/1.1 429'));
      sock.write(head + BODY);
      await until(() => got.split('HTTP/1.1 429').length === 3);
      expect(got).not.toMatch(/connection: close/i);
      sock.destroy();
    } finally {
      await app.close();
    }
  });

  it('closes the connection instead of reading a refused body larger than bodyLimitBytes', async () => {
    const { app, sink } = await buildTestApp({
      maxInflightBodyBytes: 1 << 20,
      bodyLimitBytes: 4096,
    });
    sink.pending = sink.capacity;
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = app.server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/records`, {
        method: 'POST',
        body: BODY,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(429);
      expect(res.headers.get('connection')).toBe('close');
      await res.text();
    } finally {
      await app.close();
    }
  });
});
