import type { Command } from 'commander';
import {
  ChariotsClient,
  type AppendRecord,
  type LogRecord,
  type QuerySelector,
} from '../../client';
import { ConfigError } from '../../errors';

/**
 * `chariots post | get | query | tail`: the HTTP API from a shell, through the SDK (so retries
 * are idempotent). `--json` prints what the API returns; otherwise a table for people.
 */
const withConnection = (cmd: Command): Command =>
  cmd
    .option(
      '--url <url>',
      'the HTTP API (also CHARIOTS_URL)',
      process.env.CHARIOTS_URL ?? 'http://127.0.0.1:8080',
    )
    .option('--token <token>', 'bearer token (also CHARIOTS_TOKEN)', process.env.CHARIOTS_TOKEN)
    .option('--json', 'machine-readable output (JSON / NDJSON)');

const clientOf = (opts: Record<string, unknown>) =>
  new ChariotsClient({
    url: String(opts.url),
    token: typeof opts.token === 'string' ? opts.token : undefined,
  });

const out = (line: string) => process.stdout.write(`${line}\n`);

/** Fixed-width columns; tags shown as k=v. */
export function formatTable(records: LogRecord[]): string {
  const rows = records.map((r) => [
    String(r.lid),
    String(r.host),
    String(r.toid),
    r.id,
    r.seed,
    Object.entries(r.tags)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  ]);
  const head = ['LID', 'HOST', 'TOID', 'ID', 'SEED', 'TAGS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parseTag(spec: string): [string, string] {
  const i = spec.search(/[:=]/);
  if (i <= 0) throw new ConfigError(`--tag expects key=value (or key:value), got "${spec}"`);
  return [spec.slice(0, i), spec.slice(i + 1)];
}

export function registerClientCommands(program: Command): void {
  withConnection(
    program
      .command('post')
      .description('Append one record: a JSON body as argument, or --tag/--seed/--prehash/--parent')
      .argument('[json]', 'the record as SPEC §1 JSON')
      .option('--tag <k=v>', 'a tag (repeatable)', collect)
      .option('--seed <u64>', 'the causal chain')
      .option('--prehash <u64>', 'a prerequisite tag hash (repeatable)', collect)
      .option('--parent <id>', 'a prerequisite record id (repeatable)', collect)
      .option('--id <id>', 'the record id (idempotency key)')
      .option('--wait', 'answer once appended, with the LId'),
  ).action(async (json: string | undefined, opts: Record<string, unknown>) => {
    const record: AppendRecord = json
      ? (JSON.parse(json) as AppendRecord)
      : {
          tags: Object.fromEntries(((opts.tag as string[]) ?? []).map(parseTag)),
          seed: opts.seed as string | undefined,
          prehash: opts.prehash as string[] | undefined,
          parent: opts.parent as string[] | undefined,
          id: opts.id as string | undefined,
        };
    const r = await clientOf(opts).append(record, { waitAppended: Boolean(opts.wait) });
    out(
      opts.json
        ? JSON.stringify(r)
        : r.lid !== undefined
          ? `appended ${r.id} at lid ${r.lid}`
          : `accepted ${r.id}`,
    );
  });

  withConnection(
    program.command('get').description('The record at an LId').argument('<lid>', 'the LId'),
  ).action(async (lid: string, opts: Record<string, unknown>) => {
    const r = await clientOf(opts).get(Number(lid));
    if (!r) {
      process.stderr.write(`no record at lid ${lid} yet\n`);
      process.exitCode = 1;
      return;
    }
    out(opts.json ? JSON.stringify(r) : formatTable([r]));
  });

  withConnection(
    program
      .command('query')
      .description('Records by --tag k:v | --hash H | --seed S | --id ID, in LId order')
      .option('--tag <k:v>', 'tag key and value')
      .option('--hash <u64>', 'tag hash')
      .option('--seed <u64>', 'seed')
      .option('--id <id>', 'record id')
      .option('--limit <n>', 'at most this many records', '100'),
  ).action(async (opts: Record<string, unknown>) => {
    const selector: QuerySelector | undefined =
      typeof opts.tag === 'string'
        ? { tag: parseTag(opts.tag) }
        : typeof opts.hash === 'string'
          ? { hash: opts.hash }
          : typeof opts.seed === 'string'
            ? { seed: opts.seed }
            : typeof opts.id === 'string'
              ? { id: opts.id }
              : undefined;
    if (!selector) throw new ConfigError('query needs one of --tag, --hash, --seed, --id');
    const records: LogRecord[] = [];
    for await (const r of clientOf(opts).query(selector, { limit: Number(opts.limit) })) {
      records.push(r);
      if (records.length >= Number(opts.limit)) break;
    }
    if (opts.json) for (const r of records) out(JSON.stringify(r));
    else out(records.length === 0 ? 'no records' : formatTable(records));
  });

  withConnection(
    program
      .command('tail')
      .description('Follow the log from an LId (reconnects without gaps); Ctrl-C stops')
      .option('--from-lid <lid>', 'first LId', '1'),
  ).action(async (opts: Record<string, unknown>) => {
    const ac = new AbortController();
    process.once('SIGINT', () => ac.abort());
    let first = true;
    try {
      for await (const r of clientOf(opts).tail({
        fromLid: Number(opts.fromLid),
        signal: ac.signal,
      })) {
        if (opts.json) out(JSON.stringify(r));
        else {
          const table = formatTable([r]).split('\n');
          out(first ? table.join('\n') : table[1]);
          first = false;
        }
      }
    } catch (e) {
      if (!ac.signal.aborted) throw e;
    }
  });
}
