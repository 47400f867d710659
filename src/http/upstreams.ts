import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ChariotsError, ConfigError } from '../errors';
import type { Logger } from '../logger';

/** A maintainer's answer: read whole, or (a 200 of /log/stream) handed over as it flows. */
export type Answer =
  | { kind: 'buffered'; base: string; status: number; headers: Headers; body: Buffer }
  | { kind: 'stream'; base: string; status: number; headers: Headers; body: IncomingMessage };
type Headers = Record<string, string>;

/** What the caller needs of the maintainer's answer headers (type, caching, retry, auth). */
const ANSWER_HEADERS = ['content-type', 'cache-control', 'retry-after', 'www-authenticate'];
/** Answers that mean "this maintainer cannot answer now": the next one is tried. */
const TRY_NEXT = new Set([502, 503, 504]);
/**
 * Idle kept-alive sockets are closed after this long: well under the maintainer's own
 * keep-alive (65 s, src/http/app.ts), so a request never goes out on a socket the server is
 * closing at that moment (which would fail it for nothing).
 */
const IDLE_SOCKET_MS = 4000;

export const maintainerUnavailable = (tried: string[]): ChariotsError =>
  new ChariotsError(
    'CHARIOTS_ERR_MAINTAINER_UNAVAILABLE',
    `no maintainer read API answered (batcher.readUrls): ${tried.join('; ')}`,
  );

class AttemptTimeout extends Error {}

/**
 * The maintainers a batcher forwards reads to, tried in turn from the last one that
 * answered (so a dead first URL costs nothing once another answered). GETs only, so trying
 * the next maintainer after a failure is always safe. node:http rather than fetch: fetch's
 * dispatcher ends a response body idle for 300 s, which would cut a quiet /log/stream, and
 * cannot be changed without the undici package.
 */
export class MaintainerUpstreams {
  private readonly bases: string[];
  private preferred = 0;
  private readonly down = new Set<string>();
  private readonly httpAgent = new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });

  constructor(
    urls: readonly string[],
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {
    this.bases = urls.map((u) => u.replace(/\/+$/, ''));
    if (this.bases.length === 0) throw new ConfigError('batcher.readUrls is empty');
    for (const b of this.bases)
      if (!/^https?:$/.test(new URL(b).protocol))
        throw new ConfigError(`batcher.readUrls: ${b} is not an http(s) URL`);
  }

  /**
   * GET `path` (with its query string) from the first maintainer that answers. `stream`:
   * a 200 is handed over once its headers arrived, without a timeout on the body.
   */
  async get(path: string, headers: Headers, stream: boolean): Promise<Answer> {
    const tried: string[] = [];
    const n = this.bases.length;
    for (let k = 0; k < n; k++) {
      const i = (this.preferred + k) % n;
      const base = this.bases[i];
      let answer: Answer;
      try {
        answer = await this.attempt(base, path, headers, stream);
      } catch (e) {
        tried.push(`${base} ${reason(e, this.timeoutMs)}`);
        this.markDown(base, tried[tried.length - 1]);
        continue;
      }
      if (TRY_NEXT.has(answer.status)) {
        if (answer.kind === 'stream') answer.body.destroy();
        tried.push(`${base} answered ${answer.status}`);
        this.markDown(base, tried[tried.length - 1]);
        continue;
      }
      this.preferred = i;
      if (this.down.delete(base))
        this.logger.info({ url: base }, 'maintainer read API answers again');
      return answer;
    }
    throw maintainerUnavailable(tried);
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private markDown(base: string, why: string): void {
    // Once per outage: the dashboard polls every second and would flood the log.
    if (this.down.has(base)) return this.logger.debug({ url: base, why }, 'maintainer read failed');
    this.down.add(base);
    this.logger.warn({ url: base, why }, 'maintainer read API does not answer; trying the next');
  }

  private attempt(base: string, path: string, headers: Headers, stream: boolean): Promise<Answer> {
    const url = new URL(base + path);
    const https = url.protocol === 'https:';
    return new Promise<Answer>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(url, {
        method: 'GET',
        headers,
        agent: https ? this.httpsAgent : this.httpAgent,
      });
      let timedOut = false;
      // Bounds connecting, the headers and (unless streamed) the body: never a hang.
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy();
      }, this.timeoutMs);
      const fail = (e: unknown) => {
        clearTimeout(timer);
        reject(timedOut ? new AttemptTimeout() : e);
      };
      req.on('error', fail);
      req.on('response', (res) => {
        // Errors after this point reach whoever reads the body (below, or the pipeline).
        res.on('error', () => undefined);
        const status = res.statusCode ?? 502;
        const out: Headers = {};
        for (const h of ANSWER_HEADERS) {
          const v = res.headers[h];
          if (typeof v === 'string') out[h] = v;
        }
        if (stream && status === 200) {
          clearTimeout(timer);
          return resolve({ kind: 'stream', base, status, headers: out, body: res });
        }
        readAll(res).then((body) => {
          clearTimeout(timer);
          resolve({ kind: 'buffered', base, status, headers: out, body });
        }, fail);
      });
      req.end();
    });
  }
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function reason(e: unknown, timeoutMs: number): string {
  if (e instanceof AttemptTimeout) return `did not answer within ${timeoutMs} ms`;
  const err = e as NodeJS.ErrnoException;
  return `failed: ${err.code ?? err.message}`;
}
