import type { Command } from 'commander';
import { createKafkaClient, readToEnd, topicNames } from '../../kafka';
import { rootLogger } from '../../logger';
import { decodeLog, type LogRecord } from '../../record';
import { parsePeer } from '../../replication';
import { summaryLine, verifyLogs } from '../../verify/causal-check';
import { addConfigFlags, configFromFlags } from '../config-flags';

export function registerVerify(program: Command): void {
  addConfigFlags(
    program
      .command('verify')
      .description(
        'Check the logs of several datacenters for density, duplicates, TOId order and causal consistency',
      )
      .requiredOption(
        '--dcs <list>',
        'datacenters as <dcId>@<topicPrefix>[@<host:port>;…] (their own cluster), comma separated, e.g. 1@dc1.,2@dc2.@kafka-2:9092',
      )
      .option('--json', 'print the full report as JSON'),
  ).action(async (opts: Record<string, unknown>) => {
    const config = configFromFlags(opts);
    const kafka = createKafkaClient(config.kafka, rootLogger);
    const logs = [];
    for (const spec of String(opts.dcs).split(',').filter(Boolean)) {
      // The peer syntax of replication.peers: a datacenter on its own cluster names its brokers.
      const dc = parsePeer(spec, 0);
      const client =
        dc.brokers.length > 0
          ? createKafkaClient({ ...config.kafka, brokers: dc.brokers }, rootLogger)
          : kafka;
      const records: LogRecord[] = [];
      await readToEnd(client, {
        topic: topicNames(dc.topicPrefix).log,
        logger: rootLogger,
        onBatch: (b) => {
          for (const m of b.messages) if (m.value) records.push(decodeLog(m.value));
        },
      });
      logs.push({ dcId: dc.dcId, records });
    }
    const report = verifyLogs(logs);
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(report, null, 2)}\n`
        : `${summaryLine(report)}\n${report.problems.map((p) => `  ${p}`).join('\n')}${report.problems.length ? '\n' : ''}`,
    );
    if (!report.ok) process.exitCode = 2;
  });
}
