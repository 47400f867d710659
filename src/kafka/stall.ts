import type { Logger } from '../logger';
import type { KafkaClient } from './client';
import { GroupInspector } from './groups';

/** Where a consumer stands on one partition: the next offset it will process. */
export interface PartitionPosition {
  partition: number;
  position: bigint;
}

export interface StallVerdict {
  ready: boolean;
  reason?: string;
}

/**
 * Decides "stuck": records are waiting (end offset beyond the position) and no position
 * moved for `stallMs`. One offset per partition is tolerated, because on a topic written in
 * transactions the commit marker after the last record occupies an offset no consumer ever
 * processes. Pure (the clock is injected) so that the rule is unit-tested without Kafka.
 */
export class StallDetector {
  private last = new Map<number, bigint>();
  private progressAt: number;
  private behind = 0;
  private behindOn: number[] = [];

  constructor(
    private readonly stallMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.progressAt = now();
  }

  observe(ends: ReadonlyMap<number, bigint>, positions: PartitionPosition[]): void {
    let moved = positions.length !== this.last.size;
    let behind = 0n;
    const on: number[] = [];
    for (const { partition, position } of positions) {
      if (this.last.get(partition) !== position) moved = true;
      const end = ends.get(partition);
      if (end !== undefined && end - position > 1n) {
        behind += end - position - 1n;
        on.push(partition);
      }
    }
    this.last = new Map(positions.map((p) => [p.partition, p.position]));
    this.behind = Number(behind);
    this.behindOn = on;
    if (moved || behind === 0n) this.progressAt = this.now();
  }

  verdict(): StallVerdict {
    const idleFor = this.now() - this.progressAt;
    if (this.behind === 0 || idleFor < this.stallMs) return { ready: true };
    return {
      ready: false,
      reason: `stuck: ${this.behind} records waiting on partition(s) ${this.behindOn.join(',')} and no progress for ${idleFor} ms (health.stallMs=${this.stallMs})`,
    };
  }
}

export interface StallWatchOptions {
  kafka: KafkaClient;
  topic: string;
  stallMs: number;
  positions: () => PartitionPosition[];
  logger: Logger;
}

/** Samples the input topic's end offsets and the consumer's positions into a StallDetector. */
export class StallWatch {
  private readonly detector: StallDetector;
  private readonly inspector: GroupInspector;
  private readonly timer: NodeJS.Timeout;
  private sampling = false;
  private wasReady = true;

  constructor(private readonly opts: StallWatchOptions) {
    this.detector = new StallDetector(opts.stallMs);
    this.inspector = new GroupInspector(opts.kafka);
    const every = Math.max(100, Math.min(2000, Math.floor(opts.stallMs / 4)));
    this.timer = setInterval(() => void this.sample(), every);
    this.timer.unref();
  }

  private async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const ends = await this.inspector.endOffsets(this.opts.topic);
      this.detector.observe(
        new Map(ends.map((e) => [e.partition, BigInt(e.high)])),
        this.opts.positions(),
      );
    } catch (e) {
      // An unreachable broker is the 'kafka' readiness check's business; keep the last sample.
      this.opts.logger.debug({ err: e }, 'stall watch: end offsets not available');
    } finally {
      this.sampling = false;
    }
  }

  verdict(): StallVerdict {
    const v = this.detector.verdict();
    if (v.ready !== this.wasReady) {
      this.wasReady = v.ready;
      if (v.ready) this.opts.logger.info({ topic: this.opts.topic }, 'progressing again');
      else this.opts.logger.warn({ topic: this.opts.topic, reason: v.reason }, 'stage is stuck');
    }
    return v;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.inspector.close();
  }
}
