/** Renders a bench report as the BENCHMARKS.md section (between markers, so prose around it stays). */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarize, type ProfileSummary } from './profile';
import type { RunResult } from './run';

type Summary = Record<string, Record<string, number | null>>;
export interface Report {
  date: string;
  git: { commit: string; dirty: string[] };
  name: string;
  command: string;
  machine: Record<string, unknown>;
  stages: string[];
  layout?: 'processes' | 'one';
  settings: Record<string, unknown>;
  summary: Summary;
  runs: RunResult[];
  profiles: Record<string, ProfileSummary>;
  strayAppends: number;
  /** The queue's RSS just before the deferred records were seeded (MB). */
  queueRssBeforeDeferredMb?: number;
  skipped: string[];
  pipelineLog: { file: string; counts: Record<string, number>; samples: string[] };
  failure?: string;
}

const START = '<!-- bench:latest:start -->';
const END = '<!-- bench:latest:end -->';

const f = (x: number | null | undefined, unit = '') =>
  x === null || x === undefined
    ? '–'
    : `${Math.abs(x) < 10 ? Math.round(x * 100) / 100 : Math.round(x * 10) / 10}${unit}`;
const k = (x: number | null | undefined) =>
  x === null || x === undefined
    ? '–'
    : x >= 1000
      ? `${(x / 1000).toFixed(1)} k`
      : String(Math.round(x));
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a && b ? `${(a / b).toFixed(2)}×` : '–';

const TITLES: Record<string, string> = {
  baseline: 'baseline — thin kafkajs chain (3 tx hops), direct produce',
  a: '(a) direct Kafka produce to ingest',
  b: '(b) `POST /records`, batches of 1 000 (4 in flight)',
  c: '(c) `POST /record`, 64 keep-alive connections',
  deferred: '(a) with 100 000 deferred records waiting in the queue',
  d: "(d) raw TCP, `'s'` frames of 100 records",
  'baseline-rate': 'baseline at a fixed rate (direct produce)',
  rate: 'fixed rate (direct produce)',
  'baseline-low': 'baseline at a low fixed rate (direct produce)',
  low: 'low fixed rate (direct produce)',
};

/** One target: measured vs wanted, and by how much it is missed. */
function target(
  name: string,
  value: number | null | undefined,
  want: number,
  higherIsBetter: boolean,
  unit: string,
) {
  if (value === null || value === undefined)
    return `| ${name} | not measured | ${want}${unit} | – |`;
  const ok = higherIsBetter ? value >= want : value < want;
  const miss = higherIsBetter
    ? `missed: ${f(value)}${unit} is ${(want / value).toFixed(1)}× below (−${Math.round((1 - value / want) * 100)} %)`
    : `missed: ${f(value)}${unit} is ${(value / want).toFixed(1)}× over`;
  return `| ${name} | ${f(value)}${unit} | ${higherIsBetter ? '≥' : '<'} ${want}${unit} | ${ok ? 'met' : miss} |`;
}

export function renderMarkdown(r: Report): string {
  const s = r.summary;
  const m = r.machine;
  const base = s.baseline?.recordsPerSec;
  const lines: string[] = [];
  lines.push(START, '');
  lines.push(`### Run of ${r.date.slice(0, 16).replace('T', ' ')} UTC — \`${r.name}\``, '');
  lines.push(
    `- Machine: ${m.nproc} cores (${m.cpuModel}), ${m.memoryGb} GB RAM; Node ${m.node}; broker ${m.kafka} (${m.broker}); ${
      r.layout === 'one'
        ? `pipeline stages in ONE process: ${r.stages.join(', ')}; load generators in a worker thread of the same process.`
        : `every pipeline stage (${r.stages.join(', ')}) and every baseline hop in its own process (\`BENCH_LAYOUT=processes\`, as deployed); load generators in a worker thread of the bench process, which also counts the appends.`
    }`,
    `- Command: \`${r.command}\`; code: commit \`${r.git.commit.slice(0, 10)}\`${r.git.dirty.length ? ` plus uncommitted changes of other engineers in ${r.git.dirty.map((d) => d.slice(3)).join(', ')}` : ''}.`,
    `- Filter and queue run the transactions of up to ${r.settings.CONCURRENCY ?? 1} input partition(s) at once (\`kafka.partitionsConcurrency\`), each baseline hop likewise.`,
    `- ${r.settings.RUNS} runs per workload, interleaved; each figure is the median of the runs. Raw runs: \`bench/results/${r.date.slice(0, 10)}-${r.name}.json\`.`,
    r.settings.TOPIC_MAX_MESSAGE_BYTES
      ? `- **Workaround applied:** every bench topic is created with \`max.message.bytes=${r.settings.TOPIC_MAX_MESSAGE_BYTES}\` (the shipped declarations keep the broker's 1 MB default, with which the sequencer's consumer once crashed and the log stopped: see "Broken" above).`
      : '- Topics exactly as declared in `topics/` (no workaround).',
    `- Throughput = records appended to the log topic / (last append − first send); "steady" = the records between the 10 % and 90 % append marks over that time. Latency = send → seen in the log topic by a follower (matched by record id).`,
    '',
  );
  lines.push(
    '| workload | records/run | records/s appended | × baseline | steady rec/s | latency p50 / p99 / p99.9 (ms) | request p99 (ms), req/s | not appended / dups | process CPU %, pipeline-thread busy, broker CPU % | kafkajs CONCURRENT_TRANSACTIONS retries | load avg at start of each run |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const key of Object.keys(s)) {
    const x = s[key];
    const runs = r.runs.filter((q) => q.workload === key && !q.profiled);
    const isRate = ['rate', 'baseline-rate', 'low', 'baseline-low'].includes(key);
    const rateOf = key.endsWith('low') ? r.settings.LOW_RATE : r.settings.RATE;
    const rel = key.startsWith('baseline')
      ? '1.00×'
      : key === 'rate'
        ? `${ratio(x.p50, s['baseline-rate']?.p50)} latency p50`
        : key === 'low'
          ? `${ratio(x.p50, s['baseline-low']?.p50)} latency p50`
          : ratio(x.recordsPerSec, base);
    lines.push(
      `| ${TITLES[key] ?? key}${isRate ? ` @ ${rateOf}/s` : ''} | ${runs[0]?.records ?? '–'} | ${k(x.recordsPerSec)} | ${rel} | ${k(x.steadyRecordsPerSec)} | ${f(x.p50)} / ${f(x.p99)} / ${f(x.p999)} | ${x.requestP99 !== null ? `${f(x.requestP99)}, ${k(x.requestsPerSec)}` : '–'} | ${x.notAppended} / ${x.duplicates} | ${f(x.processCpuPct)}, ${f(x.pipelineThreadElu)}, ${f(x.brokerCpuPct)} | ${f(x.concurrentTransactionRetries)} | ${runs.map((q) => q.loadavgAtStart[0]).join(', ')} |`,
    );
  }
  lines.push('');
  const procNames = [
    ...new Set(
      Object.values(s).flatMap((x) =>
        Object.keys(x)
          .filter((n) => n.startsWith('cpu:'))
          .map((n) => n.slice(4)),
      ),
    ),
  ];
  if (procNames.length > 0) {
    lines.push(
      'Each process: CPU as % of one core over the run, CPU ms per 1 000 records appended (the figure that hardly depends on what else runs), peak RSS; medians:',
      '',
      `| workload | ${procNames.join(' | ')} |`,
      `|---|${procNames.map(() => '---').join('|')}|`,
    );
    for (const key of Object.keys(s)) {
      const x = s[key];
      if (!procNames.some((n) => x[`cpu:${n}`] !== undefined)) continue;
      lines.push(
        `| ${TITLES[key] ?? key} | ${procNames.map((n) => (x[`cpu:${n}`] === undefined ? '' : `${f(x[`cpu:${n}`])} %, ${f(x[`cpuk:${n}`])} ms/1k, ${f(x[`rss:${n}`])} MB`)).join(' | ')} |`,
      );
    }
    lines.push('');
  }
  lines.push('**Issue 8 targets** (measured above, medians):', '');
  lines.push('| target | measured | wanted | verdict |', '|---|---|---|---|');
  lines.push(target('(a) direct produce, records/s', s.a?.recordsPerSec, 50000, true, ''));
  lines.push(
    target(
      '(a) ÷ baseline',
      s.a?.recordsPerSec && base ? s.a.recordsPerSec / base : null,
      0.8,
      true,
      '',
    ),
  );
  lines.push(target('(b) POST /records, records/s', s.b?.recordsPerSec, 50000, true, ''));
  lines.push(target('(c) POST /record, requests/s', s.c?.requestsPerSec, 15000, true, ''));
  lines.push(target('(c) POST /record, request p99', s.c?.requestP99, 25, false, ' ms'));
  lines.push(target(`latency at ${r.settings.RATE}/s, p50`, s.rate?.p50, 15, false, ' ms'));
  lines.push(target(`latency at ${r.settings.RATE}/s, p99`, s.rate?.p99, 60, false, ' ms'));
  // "Cost" read as what the deferred records add to the queue's RSS: the deferred runs' peak
  // over the RSS just before seeding (the queue's RSS grows through an invocation with its
  // log index, so run (a)'s peak, taken earlier, understated or overstated it by tens of MB;
  // reports without the seeding figure fall back to it). The absolute peak is shown too, the
  // stricter reading.
  const deferredRss = s.deferred?.['rss:queue'];
  const beforeSeeding = r.queueRssBeforeDeferredMb;
  const plainRss = beforeSeeding ?? s.a?.['rss:queue'];
  lines.push(
    target(
      `${r.settings.DEFERRED ?? 100000} deferred: queue RSS cost (peak − ${beforeSeeding === undefined ? "run (a)'s peak" : 'RSS before seeding'})`,
      typeof deferredRss === 'number' && typeof plainRss === 'number'
        ? deferredRss - plainRss
        : null,
      150,
      false,
      ' MB',
    ),
  );
  lines.push(
    target(
      `${r.settings.DEFERRED ?? 100000} deferred: queue RSS, absolute peak`,
      deferredRss,
      150,
      false,
      ' MB',
    ),
  );
  lines.push(
    target(
      `${r.settings.DEFERRED ?? 100000} deferred: throughput ÷ (a)`,
      s.deferred?.recordsPerSec && s.a?.recordsPerSec
        ? s.deferred.recordsPerSec / s.a.recordsPerSec
        : null,
      0.9,
      true,
      '',
    ),
  );
  lines.push('');
  const logCounts =
    Object.entries(r.pipelineLog.counts)
      .map(([l, n]) => `${n} ${l}`)
      .join(', ') || 'none';
  lines.push(`Pipeline log lines at warn and above during the run: ${logCounts}.`);
  if (r.pipelineLog.samples.length)
    lines.push(
      '',
      'First of them:',
      '',
      ...r.pipelineLog.samples.slice(0, 8).map((x) => `- \`${x.replace(/`/g, "'")}\``),
    );
  if (r.strayAppends)
    lines.push(
      '',
      `${r.strayAppends} log records arrived outside the run that sent them (late appends of an earlier run, or warm-up).`,
    );
  if (r.skipped.length)
    lines.push('', `Runs skipped because their pipeline had stalled: ${r.skipped.join('; ')}.`);
  if (r.failure) lines.push('', `**The run failed:** ${r.failure}`);
  for (const [key, p] of Object.entries(r.profiles)) {
    lines.push(
      '',
      `<details><summary>CPU profile of ${r.layout === 'one' ? 'the pipeline thread' : 'the process'} during one extra run of ${key} (${p.totalMs} ms${p.busyMs !== undefined ? `, ${p.busyMs} ms busy` : ''}): top self time, % of busy time</summary>`,
      '',
    );
    lines.push(
      '| area | self % |',
      '|---|---|',
      ...p.byArea.slice(0, 10).map((a) => `| ${a.area} | ${a.selfPct} |`),
    );
    lines.push('', '| function | where | self % |', '|---|---|---|');
    lines.push(
      ...p.topFunctions.slice(0, 15).map((t) => `| \`${t.fn}\` | ${t.where} | ${t.selfPct} |`),
    );
    lines.push('', '</details>');
  }
  lines.push('', END);
  return lines.join('\n');
}

export function updateBenchmarksMd(file: string, section: string): void {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const a = old.indexOf(START);
  const b = old.indexOf(END);
  const next =
    a >= 0 && b > a
      ? old.slice(0, a) + section + old.slice(b + END.length)
      : `${old.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
}

/**
 * `tsx bench/report.ts <results.json>`: re-renders BENCHMARKS.md's latest section from a results
 * file (re-summarizing its profiles when the .cpuprofile files are still there).
 */
if (require.main === module) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: tsx bench/report.ts bench/results/<date>-<name>.json');
  const root = join(__dirname, '..');
  const r = JSON.parse(readFileSync(file, 'utf8')) as Report;
  for (const [key, p] of Object.entries(r.profiles)) {
    const path = join(root, p.file);
    if (existsSync(path))
      r.profiles[key] = summarize(JSON.parse(readFileSync(path, 'utf8')), p.file);
  }
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  updateBenchmarksMd(join(root, 'BENCHMARKS.md'), renderMarkdown(r));
}
