/**
 * The logs of the pipeline under test — this process's and every child process's — in one
 * file, with counts of warn-and-above lines and the first of them for the report.
 */
import pino from 'pino';

/** kafkajs logs (at error) every CONCURRENT_TRANSACTIONS answer, then retries it after ~100 ms. */
export const kafkajsRetries = { concurrentTransactions: 0 };
const CONCURRENT_TX =
  'Failed to send messages: The producer attempted to update a transaction while another concurrent';
const LABELS: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };

export function benchLogger(file: string, level = process.env.BENCH_LOG_LEVEL ?? 'warn') {
  const counts: Record<string, number> = {};
  const samples: string[] = [];
  const note = (levelNo: number, msg: string, err: string, who = '') => {
    if (msg.startsWith(CONCURRENT_TX)) kafkajsRetries.concurrentTransactions++;
    if (levelNo < 40) return;
    const name = LABELS[levelNo] ?? String(levelNo);
    counts[name] = (counts[name] ?? 0) + 1;
    if (samples.length < 20) samples.push(`${name}: ${who}${msg}${err}`.slice(0, 400));
  };
  const dest = pino.destination({ dest: file, sync: false, mkdir: true });
  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: {
        logMethod(args, method, levelNo) {
          const msg = String(args.find((a) => typeof a === 'string') ?? '');
          const obj = args[0] as { err?: { message?: string } } | undefined;
          const err =
            obj && typeof obj === 'object' && obj.err
              ? ` — ${String(obj.err.message ?? obj.err)}`
              : '';
          note(levelNo, msg, err);
          return method.apply(this, args);
        },
      },
    },
    dest,
  );
  /** One line of a child process's output (pino JSON, or anything else it printed). */
  const childLine = (who: string, line: string) => {
    let levelNo = 30;
    let msg = line;
    let err = '';
    try {
      const o = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      levelNo = o.level ?? 30;
      msg = o.msg ?? '';
      err = o.err ? ` — ${String(o.err.message ?? o.err)}` : '';
    } catch {
      levelNo = 40; // not pino: a crash trace or a warning printed by node itself
    }
    if (levelNo >= 40 || msg.startsWith(CONCURRENT_TX)) {
      note(levelNo, msg, err, `[${who}] `);
      dest.write(`${line}\n`);
    }
  };
  return { logger, counts, samples, childLine };
}
