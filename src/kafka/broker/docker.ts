import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';

/**
 * Is a Docker engine answering? Testcontainers itself would wait a long time and print
 * a lot before giving up, so ask the engine's /_ping ourselves with a short timeout:
 * DOCKER_HOST (unix:// or tcp://) if set, else /var/run/docker.sock.
 */
export async function dockerReachable(timeoutMs = 1500): Promise<boolean> {
  const host = process.env.DOCKER_HOST;
  let target: { path: string } | { host: string; port: number };
  if (!host) target = { path: '/var/run/docker.sock' };
  else if (host.startsWith('unix://')) target = { path: host.slice('unix://'.length) };
  else if (host.startsWith('tcp://')) {
    const u = new URL(host.replace(/^tcp:/, 'http:'));
    target = { host: u.hostname, port: Number(u.port || 2375) };
  } else return false; // ssh:// and npipe:// are not probed; set KAFKA_BROKERS instead
  return new Promise((resolve) => {
    let answer = '';
    const sock: Socket = connect(target as never);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('connect', () => sock.write('GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n'));
    sock.on('data', (d: Buffer) => {
      answer += d.toString();
      if (/^HTTP\/1\.\d 200/.test(answer)) done(true);
      else if (answer.includes('\r\n')) done(false);
    });
    sock.on('error', () => done(false));
    sock.on('close', () => done(false));
  });
}

export const DEFAULT_REDPANDA_IMAGE = 'docker.redpanda.com/redpandadata/redpanda:v24.2.18';

/** Redpanda in a container. Loaded lazily: Testcontainers costs nothing unless used. Its
 * Ryuk sidecar removes the container if this process dies without calling stop(). */
export async function startRedpanda(
  logger: Logger,
): Promise<{ brokers: string[]; stop(): Promise<void> }> {
  const image = process.env.CHARIOTS_REDPANDA_IMAGE || DEFAULT_REDPANDA_IMAGE;
  const { RedpandaContainer } = await import('@testcontainers/redpanda');
  const container = await new RedpandaContainer(image).start();
  const brokers = [container.getBootstrapServers().replace(/^PLAINTEXT:\/\//, '')];
  logger.debug({ image, brokers }, 'redpanda container started');
  return { brokers, stop: async () => void (await container.stop()) };
}
