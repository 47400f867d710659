import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../logger';
import { serveConnection, type ConnectionDeps } from './tcp-connection';

export interface TcpIngestOptions extends Omit<ConnectionDeps, 'closing' | 'logger'> {
  host: string;
  port: number;
  maxConnections: number;
  logger: Logger;
}

/** How long close() lets clients finish sending before cutting them off. */
const CLOSE_GRACE_MS = 2000;

/** The GoChariots-compatible raw TCP ingest (SPEC §3.2) on its own port. */
export class TcpIngest {
  private readonly server: Server;
  private readonly connections = new Map<Socket, Promise<void>>();
  private closing = false;
  private boundPort = 0;

  constructor(private readonly opts: TcpIngestOptions) {
    this.server = createServer((socket) => this.accept(socket));
    // Node refuses (closes) connections beyond this; 'drop' tells us it happened.
    this.server.maxConnections = opts.maxConnections;
    this.server.on('drop', (d) =>
      opts.logger.warn(
        { remote: d?.remoteAddress, maxConnections: opts.maxConnections },
        'TCP connection refused: too many connections',
      ),
    );
  }

  /** The bound port (meaningful after listen; port 0 picks a free one). */
  get port(): number {
    return this.boundPort;
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : this.opts.port;
    this.server.on('error', (e) => this.opts.logger.error({ err: e }, 'TCP listener error'));
    return this.boundPort;
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const { done } = serveConnection(socket, { ...this.opts, closing: () => this.closing });
    this.connections.set(socket, done);
    void done.then(() => this.connections.delete(socket));
  }

  /** Stops accepting, lets clients' in-flight frames arrive (ended sockets), then cuts the rest. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const stopped = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.connections.keys()) s.end();
    const grace = setTimeout(() => {
      for (const s of this.connections.keys()) s.destroy();
    }, CLOSE_GRACE_MS);
    await Promise.all(this.connections.values());
    clearTimeout(grace);
    await stopped;
  }
}
