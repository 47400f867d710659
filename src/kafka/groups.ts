import { AssignerProtocol, type Admin, type Producer } from 'kafkajs';
import type { Logger } from '../logger';
import type { KafkaClient } from './client';
import { followTopic, type Follower } from './reader';

/** One member of a consumer group, with the partitions of the group's topic it holds. */
export interface GroupInstance {
  clientId: string;
  host: string;
  memberId: string;
  partitions: number[];
}

export interface GroupState {
  groupId: string;
  topic: string;
  /** Stable, PreparingRebalance, Empty, Dead, … (Dead = the group does not exist). */
  state: string;
  instances: GroupInstance[];
  /** Sum over the topic's partitions of end offset − committed offset (from the start when none). */
  lag: number;
  partitions: Array<{
    partition: number;
    end: string;
    committed: string | null;
    lag: number;
    /** The metadata committed with the offset (the sender's progress), if any. */
    metadata?: string | null;
  }>;
}

export interface GroupQuery {
  groupId: string;
  topic: string;
}

/**
 * Consumer-group state for the admin view: members (client id, host, assigned partitions of
 * `topic`) from DescribeGroups, and lag = topic end offsets − the group's committed offsets.
 * A partition the group never committed counts from its first offset. End offsets of a topic
 * written in transactions include the commit markers: an idle partition shows lag 1.
 */
export class GroupInspector {
  private admin: Admin | undefined;
  constructor(private readonly kafka: KafkaClient) {}

  private async connected(): Promise<Admin> {
    if (!this.admin) {
      const a = this.kafka.admin();
      await a.connect();
      this.admin = a;
    }
    return this.admin;
  }

  /** Group ids that start with `prefix` (used to find the per-peer sender groups). */
  async listGroups(prefix: string): Promise<string[]> {
    return this.guard(async (admin) =>
      (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix)),
    );
  }

  /** End (high) and first (low) offsets of each partition of `topic`. */
  async endOffsets(
    topic: string,
  ): Promise<Array<{ partition: number; high: string; low: string }>> {
    return this.guard(async (admin) =>
      (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition),
    );
  }

  async describe(queries: GroupQuery[]): Promise<GroupState[]> {
    if (queries.length === 0) return [];
    return this.guard(async (admin) => {
      const described = await admin.describeGroups(queries.map((q) => q.groupId));
      const ends = new Map<string, Array<{ partition: number; high: string; low: string }>>();
      for (const t of new Set(queries.map((q) => q.topic))) {
        ends.set(t, await admin.fetchTopicOffsets(t).catch(() => []));
      }
      const out: GroupState[] = [];
      for (const q of queries) {
        const g = described.groups.find((x) => x.groupId === q.groupId);
        const instances: GroupInstance[] = (g?.members ?? []).map((m) => {
          let partitions: number[] = [];
          try {
            const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
            partitions = [...(a?.assignment[q.topic] ?? [])].sort((x, y) => x - y);
          } catch {
            partitions = [];
          }
          return {
            clientId: m.clientId,
            host: m.clientHost.replace(/^\//, ''),
            memberId: m.memberId,
            partitions,
          };
        });
        const committed = await admin
          .fetchOffsets({ groupId: q.groupId, topics: [q.topic] })
          .then((r) => r[0]?.partitions ?? [])
          .catch(() => []);
        const partitions = (ends.get(q.topic) ?? [])
          .map((e) => {
            const entry = committed.find((x) => x.partition === e.partition);
            const c = entry?.offset;
            const from = c !== undefined && BigInt(c) >= 0n ? BigInt(c) : BigInt(e.low);
            const lag = BigInt(e.high) > from ? Number(BigInt(e.high) - from) : 0;
            return {
              partition: e.partition,
              end: e.high,
              committed: c !== undefined && BigInt(c) >= 0n ? c : null,
              lag,
              metadata: entry?.metadata ?? null,
            };
          })
          .sort((a, b) => a.partition - b.partition);
        out.push({
          groupId: q.groupId,
          topic: q.topic,
          state: g?.state ?? 'Dead',
          instances,
          lag: partitions.reduce((s, p) => s + p.lag, 0),
          partitions,
        });
      }
      return out;
    });
  }

  /** Runs `f`; a failed call drops the connection so that the next one reconnects. */
  private async guard<T>(f: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = await this.connected();
    try {
      return await f(admin);
    } catch (e) {
      this.admin = undefined;
      await admin.disconnect().catch(() => undefined);
      throw e;
    }
  }

  async close(): Promise<void> {
    const a = this.admin;
    this.admin = undefined;
    await a?.disconnect().catch(() => undefined);
  }
}

/** What a heartbeat says about the instance that sent it. */
export interface HeartbeatValue {
  stage: string;
  /** The instance's HTTP address, when it serves one. */
  url?: string;
  /** Other addresses (e.g. the batcher's raw TCP ingest). */
  tcp?: string;
  host?: string;
  /** Maintainer: the last LId stored and the next log offset to store. */
  lid?: number;
  offset?: string;
  /** ISO time of the beat. */
  at: string;
}

export interface HeartbeatOptions {
  topic: string;
  /** The instance id: the message key (the topic is compacted by it). */
  id: string;
  value: () => Omit<HeartbeatValue, 'at'>;
  intervalMs?: number;
  logger: Logger;
}

export interface Heartbeat {
  /** Stops beating; `tombstone` (default true) removes the instance from the view at once. */
  stop(opts?: { tombstone?: boolean }): Promise<void>;
}

/**
 * Components without a consumer group (batchers, maintainers) announce themselves by
 * producing `{stage, url, at}` under their instance id every `intervalMs` (default 2 s) to
 * the compacted heartbeat topic; one that stops beating drops out of the admin view.
 */
export async function startHeartbeat(
  kafka: KafkaClient,
  opts: HeartbeatOptions,
): Promise<Heartbeat> {
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let warned = false;
  const beat = async () => {
    try {
      const value: HeartbeatValue = { ...opts.value(), at: new Date().toISOString() };
      await producer.send({
        topic: opts.topic,
        acks: 1,
        messages: [{ key: opts.id, value: JSON.stringify(value) }],
      });
      warned = false;
    } catch (e) {
      if (!warned) opts.logger.warn({ err: e, topic: opts.topic }, 'heartbeat not sent');
      warned = true;
    }
  };
  await beat();
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(beat);
  }, opts.intervalMs ?? 2000);
  timer.unref();
  let stopped: Promise<void> | undefined;
  return {
    stop: (s) =>
      (stopped ??= (async () => {
        clearInterval(timer);
        await running;
        if (s?.tombstone ?? true) {
          await producer
            .send({ topic: opts.topic, acks: 1, messages: [{ key: opts.id, value: null }] })
            .catch(() => undefined);
        }
        await producer.disconnect().catch(() => undefined);
      })()),
  };
}

export interface HeartbeatEntry extends HeartbeatValue {
  id: string;
  /** When this view received the beat (ms): liveness does not depend on remote clocks. */
  seenAt: number;
}

/** Follows the heartbeat topic and answers which instances beat recently. */
export class HeartbeatView {
  private readonly entries = new Map<string, HeartbeatEntry>();
  private follower: Follower | undefined;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly topic: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const startedAt = Date.now();
    this.follower = await followTopic(this.kafka, {
      topic: this.topic,
      from: 'earliest',
      logger: this.logger,
      onBatch: (b) => {
        for (const m of b.messages) {
          if (!m.key) continue;
          const id = m.key.toString();
          if (m.value === null) {
            this.entries.delete(id);
            continue;
          }
          try {
            const v = JSON.parse(m.value.toString()) as HeartbeatValue;
            // Old beats replayed at start count from their own timestamp, not from now.
            const ts = Number(m.timestamp);
            const seenAt = ts < startedAt ? ts : Date.now();
            this.entries.set(id, { ...v, id, seenAt });
          } catch {
            // A malformed beat is ignored.
          }
        }
      },
    });
  }

  /** Instances whose last beat is younger than `maxAgeMs`. */
  live(maxAgeMs = 10000, now = Date.now()): HeartbeatEntry[] {
    return [...this.entries.values()]
      .filter((e) => now - e.seenAt < maxAgeMs)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  async close(): Promise<void> {
    await this.follower?.close();
  }
}
