import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildProgram } from '../index';
import { formatTable } from './client-commands';

/** The CLI's read/write commands against a local HTTP server speaking the API's shapes. */
const rec = (lid: number, tags: Record<string, string>) => ({
  lid,
  toid: lid,
  host: 1,
  id: `id-${lid}`,
  seed: '18446744073709551615',
  prehash: [],
  parent: [],
  tags,
  receivedAt: '2026-11-26T00:00:00.000Z',
  appendedAt: '2026-11-26T00:00:00.001Z',
});

let server: Server;
let url: string;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    if (req.method === 'GET' && req.url === '/record/1')
      return res.end(JSON.stringify(rec(1, { k: 'v' })));
    if (req.method === 'GET' && req.url?.startsWith('/record/')) {
      res.statusCode = 404;
      return res.end(
        JSON.stringify({ error: { code: 'CHARIOTS_ERR_NOT_FOUND', message: 'none yet' } }),
      );
    }
    if (req.method === 'GET' && req.url?.startsWith('/records?'))
      return res.end(JSON.stringify({ records: [rec(1, { k: 'v' }), rec(2, { k: 'v', x: 'y' })] }));
    if (req.method === 'POST' && req.url?.startsWith('/record')) {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () =>
        res.end(JSON.stringify({ id: (JSON.parse(body) as { id: string }).id, lid: 7 })),
      );
      return;
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ error: { code: 'CHARIOTS_ERR_NOT_FOUND', message: 'no route' } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function run(...args: string[]): Promise<string> {
  let text = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    text += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await buildProgram()
      .exitOverride()
      .parseAsync(['node', 'chariots', ...args, '--url', url]);
  } finally {
    process.stdout.write = write;
  }
  return text;
}

describe('chariots get / query / post', () => {
  it('prints a record as a table, or as JSON with --json', async () => {
    const table = await run('get', '1');
    expect(table.split('\n')[0]).toMatch(/^LID\s+HOST\s+TOID\s+ID\s+SEED\s+TAGS$/);
    expect(table).toContain('18446744073709551615');
    expect(table).toContain('k=v');
    expect(JSON.parse(await run('get', '1', '--json'))).toEqual(rec(1, { k: 'v' }));
  });

  it('says so when an LId has no record yet, with a non-zero exit status', async () => {
    const before = process.exitCode;
    expect(await run('get', '99')).toBe('');
    expect(process.exitCode).toBe(1);
    process.exitCode = before;
  });

  it('queries by tag: a table, or NDJSON with --json', async () => {
    const table = await run('query', '--tag', 'k:v');
    expect(table.trim().split('\n')).toHaveLength(3);
    expect(seen.some((s) => s.startsWith('GET /records?') && s.includes('tag=k%3Av'))).toBe(true);
    const lines = (await run('query', '--tag', 'k:v', '--json')).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { lid: number }).lid)).toEqual([1, 2]);
  });

  it('posts a record built from flags and reports the LId', async () => {
    expect(await run('post', '--tag', 'a=1', '--seed', '5', '--id', 'cli-1', '--wait')).toBe(
      'appended cli-1 at lid 7\n',
    );
    expect(JSON.parse(await run('post', '{"id":"cli-2","tags":{}}', '--json'))).toEqual({
      id: 'cli-2',
    });
  });

  it('formats columns to the widest cell', () => {
    const t = formatTable([rec(1, {}), rec(10, { a: 'b' })]).split('\n');
    expect(t[1].indexOf('id-1')).toBe(t[2].indexOf('id-10'));
  });
});
