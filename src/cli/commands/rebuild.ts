import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import pino from 'pino';
import { topicPrefix } from '../../config/load';
import { contentHash, FlStore } from '../../flstore';
import { syncDir } from '../../flstore/files';
import { lockDir } from '../../flstore/lock';
import { createKafkaClient, topicNames } from '../../kafka';
import { fillFromLog } from '../../stages/maintainer/fill';
import { addConfigFlags, configFromFlags } from '../config-flags';

/**
 * `chariots rebuild`: recreates flstore from the log topic from offset 0 into a fresh
 * directory, then swaps it in. Stop the maintainer that uses the directory first (its
 * replicas elsewhere are unaffected): the directory's lock, held from start to swap, makes a
 * running maintainer or a second rebuild fail with CHARIOTS_ERR_STORE_LOCKED (and a
 * maintainer started meanwhile fail the same way). Prints `{records, sha256, …}`
 * (sha256 = contentHash).
 */
export function registerRebuild(program: Command): void {
  addConfigFlags(
    program
      .command('rebuild')
      .description(
        'Recreate flstore from the log topic (offset 0) into a fresh directory, then swap it in',
      )
      .option('--keep-old', 'keep the previous directory as <dir>.old'),
  ).action(async (opts: Record<string, unknown>) => {
    const config = configFromFlags(opts);
    // Logs go to stderr: stdout carries the result.
    const logger = pino({ level: config.log.level }, pino.destination(2)).child({
      stage: 'rebuild',
    });
    const kafka = createKafkaClient(config.kafka, logger);
    const dir = join(config.dataDir, `${topicPrefix(config)}flstore`);
    await mkdir(dirname(dir), { recursive: true });
    const lock = await lockDir(dir, 'chariots rebuild');
    try {
      const fresh = `${dir}.rebuild`;
      await rm(fresh, { recursive: true, force: true });
      const started = Date.now();
      const store = await FlStore.open({
        dir: fresh,
        segmentBytes: config.maintainer.segmentBytes,
        fsync: 'never', // sealed segments are synced when sealed, the last one at close
        fsyncIntervalMs: config.maintainer.fsyncIntervalMs,
        logger,
        owner: 'chariots rebuild',
      });
      const bar = process.stderr.isTTY
        ? new SingleBar({
            format:
              'rebuild |{bar}| {percentage}% | offset {value}/{total} | LId {lid} | ETA {eta_formatted}',
            stream: process.stderr,
          })
        : undefined;
      bar?.start(1, 0, { lid: 0 });
      try {
        await fillFromLog({
          kafka,
          topic: topicNames(topicPrefix(config)).log,
          store,
          logger,
          onProgress: (p) => {
            bar?.setTotal(Number(p.end));
            bar?.update(Number(p.offset) + 1, { lid: p.lastLid });
          },
        });
      } catch (e) {
        await store.close().catch(() => undefined);
        throw e;
      } finally {
        bar?.stop();
      }
      const result = {
        records: store.lastLid(),
        lastOffset: store.lastOffset(),
        sha256: await contentHash(store),
      };
      await store.close();
      const old = `${dir}.old`;
      await rm(old, { recursive: true, force: true });
      if (existsSync(dir)) await rename(dir, old);
      await rename(fresh, dir);
      await syncDir(dirname(dir));
      if (!opts.keepOld) await rm(old, { recursive: true, force: true });
      process.stdout.write(`${JSON.stringify({ ...result, dir, ms: Date.now() - started })}\n`);
    } finally {
      await lock.release();
    }
  });
}
