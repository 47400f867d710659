/**
 * A faulty network between two datacenters, made of a real Kafka consumer and producer: a
 * sender configured with the relay's prefix as its peer writes to `<relay>ingest`; the relay
 * reads that topic and re-produces every message into the peer's real ingest topic with
 * faults — copies (1 to 3 of each message), random delays (so the copies and the messages
 * arrive out of order), a few very long delays (one message held back while the ones behind
 * it go through), and copies sent to a random partition instead of the key's (so they meet
 * another dedup window and another queue partition). Faults are drawn from a seeded PRNG,
 * logged so a failing run can be replayed.
 */
import {
  BatchingProducer,
  followTopic,
  type Follower,
  type InMessage,
  type KafkaClient,
  type OutMessage,
} from '../../src/kafka';
import type { Logger } from '../../src/logger';
import { prng } from './prng';

export interface FaultRelayOptions {
  kafka: KafkaClient;
  /** The topic the sender writes (its peer's `ingest` under the relay's prefix). */
  from: string;
  /** The real ingest topic of the peer. */
  to: string;
  /** Partitions of `to` (for the copies sent to a random one). */
  partitions: number;
  seed: number;
  /** Chance that a message is delivered more than once (then 2 or 3 times). */
  duplicateRate: number;
  /** Each delivery waits a uniform 0..maxDelayMs. */
  maxDelayMs: number;
  /** Chance that a delivery waits longDelayMs instead. */
  longDelayRate: number;
  longDelayMs: number;
  /** Chance that a delivery goes to a random partition rather than the key's. */
  rekeyRate: number;
  logger: Logger;
}

export interface FaultRelayStats {
  received: number;
  delivered: number;
  duplicates: number;
  rekeyed: number;
  longDelayed: number;
  /** Deliveries of an origin TOId smaller than one already delivered. */
  reordered: number;
}

export interface FaultRelay {
  readonly stats: FaultRelayStats;
  /** Resolves once every received message has been delivered (all timers fired). */
  drained(): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultRelay(o: FaultRelayOptions): Promise<FaultRelay> {
  const rand = prng(o.seed);
  o.logger.warn({ relay: `${o.from} -> ${o.to}`, seed: o.seed }, 'fault relay started');
  const stats: FaultRelayStats = {
    received: 0,
    delivered: 0,
    duplicates: 0,
    rekeyed: 0,
    longDelayed: 0,
    reordered: 0,
  };
  const producer = new BatchingProducer(o.kafka, {
    lingerMs: 2,
    maxBatchMessages: 500,
    maxPending: Number.MAX_SAFE_INTEGER,
    logger: o.logger,
  });
  await producer.connect();
  const timers = new Set<NodeJS.Timeout>();
  let waiting = 0;
  let idle: Array<() => void> = [];
  let closed = false;
  const maxToid = new Map<string, number>();

  const settle = () => {
    if (waiting === 0) {
      for (const f of idle) f();
      idle = [];
    }
  };

  const deliver = async (m: OutMessage, origin: string, toid: number) => {
    for (let attempt = 0; !closed; attempt++) {
      try {
        await producer.send(m);
        stats.delivered++;
        if (toid < (maxToid.get(origin) ?? 0)) stats.reordered++;
        maxToid.set(origin, Math.max(maxToid.get(origin) ?? 0, toid));
        return;
      } catch (e) {
        o.logger.warn({ err: e, attempt }, 'relay delivery failed; retrying');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };

  const schedule = (m: InMessage) => {
    stats.received++;
    const copies = rand() < o.duplicateRate ? (rand() < 0.3 ? 3 : 2) : 1;
    stats.duplicates += copies - 1;
    for (let c = 0; c < copies; c++) {
      const long = rand() < o.longDelayRate;
      if (long) stats.longDelayed++;
      const delay = long ? o.longDelayMs : Math.floor(rand() * o.maxDelayMs);
      const rekey = rand() < o.rekeyRate;
      if (rekey) stats.rekeyed++;
      const out: OutMessage = {
        topic: o.to,
        key: m.key,
        value: m.value,
        headers: m.headers,
        ...(rekey ? { partition: Math.floor(rand() * o.partitions) } : {}),
      };
      waiting++;
      const t = setTimeout(() => {
        timers.delete(t);
        void deliver(out, m.headers.origin ?? '?', Number(m.headers.toid ?? 0)).finally(() => {
          waiting--;
          settle();
        });
      }, delay);
      timers.add(t);
    }
  };

  const follower: Follower = await followTopic(o.kafka, {
    topic: o.from,
    from: 'earliest',
    logger: o.logger,
    onBatch: (b) => {
      for (const m of b.messages) if (m.value) schedule(m);
    },
  });

  return {
    stats,
    drained: () =>
      waiting === 0 ? Promise.resolve() : new Promise<void>((r) => idle.push(() => r())),
    close: async () => {
      closed = true;
      await follower.close();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      waiting = 0;
      settle();
      await producer.close();
    },
  };
}
