import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import pino from 'pino';
import { topicPrefix } from '../../config/load';
import { createKafkaClient, followTopic, topicNames } from '../../kafka';
import { decodeLog, toPublicJson } from '../../record';
import { addConfigFlags, configFromFlags } from '../config-flags';
import { onShutdown } from '../shutdown';
import { parseReplayFrom, replayGate } from './replay-filter';

/**
 * `chariots replay`: the log topic as NDJSON (one SPEC §1 output record per line, LId order)
 * from an LId, a Kafka offset or a time, to stdout or a file, up to the current end (or on,
 * with --follow). Reads Kafka, the source of truth, so it works on any machine. Output is
 * written with back-pressure: Kafka is read no faster than the output drains.
 */
export function registerReplay(program: Command): void {
  addConfigFlags(
    program
      .command('replay')
      .description(
        'Print the log as NDJSON from --from-lid N | --from-offset 0:O | --from-time ISO',
      )
      .option('--from-lid <lid>', 'first LId (default 1)')
      .option('--from-offset <p:o>', 'first Kafka offset of the log topic, as 0:OFFSET')
      .option('--from-time <iso>', 'first record appended at or after this time')
      .option('--out <file>', 'write to this file instead of stdout')
      .option('--follow', 'keep following the log after reaching its end'),
  ).action(async (opts: Record<string, unknown>) => {
    const from = parseReplayFrom(opts);
    const config = configFromFlags(opts);
    const logger = pino({ level: config.log.level }, pino.destination(2)).child({
      stage: 'replay',
    });
    const kafka = createKafkaClient(config.kafka, logger);
    const out: Writable =
      typeof opts.out === 'string' ? createWriteStream(opts.out) : process.stdout;
    // A closed pipe (`| head`) ends the replay quietly.
    out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      logger.error({ err: e }, 'replay output failed');
      process.exit(1);
    });
    const showBar = process.stderr.isTTY && (typeof opts.out === 'string' || !process.stdout.isTTY);
    const bar = showBar
      ? new SingleBar({
          format:
            'replay |{bar}| {percentage}% | offset {value}/{total} | LId {lid} | ETA {eta_formatted}',
          stream: process.stderr,
        })
      : undefined;
    bar?.start(1, 0, { lid: 0 });
    const gate = replayGate(from);
    const follower = await followTopic(kafka, {
      topic: topicNames(topicPrefix(config)).log,
      partitions: [0],
      from: from.kind === 'offset' ? { 0: from.offset } : 'earliest',
      logger,
      onBatch: async (b) => {
        let lid = 0;
        for (const m of b.messages) {
          if (!m.value) continue;
          const r = decodeLog(m.value);
          lid = r.lid;
          if (gate(r) && !out.write(`${JSON.stringify(toPublicJson(r))}\n`))
            await once(out, 'drain');
        }
        bar?.setTotal(Number(b.highWatermark));
        bar?.update(Number(b.messages[b.messages.length - 1].offset) + 1, { lid });
      },
    });
    const finish = async () => {
      await follower.close();
      bar?.stop();
      if (out !== process.stdout) {
        out.end();
        await once(out, 'finish');
      }
    };
    if (opts.follow) return onShutdown(logger, finish);
    await follower.caughtUp;
    await finish();
  });
}
