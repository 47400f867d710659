import {
  followTopic,
  type Follower,
  type GroupInspector,
  type InMessage,
  type KafkaClient,
} from '../kafka';
import type { Logger } from '../logger';
import { ownToidAt, parseProgress, peerLag, type PeerLag } from './progress';

export interface ReplicationPeerLag extends PeerLag {
  peer: number;
  group: string;
  /** The sender group's state (Stable = a sender is running; Empty = stopped; Dead = never ran). */
  state: string;
}

export interface ReplicationLagOptions {
  kafka: KafkaClient;
  inspector: GroupInspector;
  logTopic: string;
  dcId: number;
  /** Configured peers: listed even before their sender ever committed. */
  peers: number[];
  logger: Logger;
  /** How far back from the log end the timestamps of own records are read at start. */
  windowOffsets?: number;
  /** At most this many own-record timestamps are kept (beyond: the upper-bound fallback). */
  maxTracked?: number;
}

const CACHE_MS = 1000;

/**
 * Per-peer replication lag of this datacenter, from Kafka alone (so any process shows it,
 * and it keeps growing while a sender is stopped): the sender groups' committed progress
 * (offset metadata, see progress.ts) against the log end. The log is followed from a window
 * before its end (started on first use, read to the end before the first answer) to know
 * this datacenter's last TOId (the `vc` header of the last message) and the timestamps of
 * its recent own records (the age of the oldest unforwarded one).
 */
export class ReplicationLagView {
  private endToid = 0;
  private prevOwn: number | undefined;
  private readonly timestamps = new Map<number, number>();
  private started: Promise<void> | undefined;
  private follower: Follower | undefined;
  private cached: { at: number; value: Promise<ReplicationPeerLag[]> } | undefined;
  private closed = false;

  constructor(private readonly opts: ReplicationLagOptions) {}

  private start(): Promise<void> {
    return (this.started ??= (async () => {
      const { kafka, inspector, logTopic, logger } = this.opts;
      const end = (await inspector.endOffsets(logTopic))[0];
      const high = BigInt(end?.high ?? '0');
      const low = BigInt(end?.low ?? '0');
      const window = BigInt(this.opts.windowOffsets ?? 100000);
      const from = high - window > low ? high - window : low;
      if (this.closed) return;
      this.follower = await followTopic(kafka, {
        topic: logTopic,
        from: { 0: from.toString() },
        partitions: [0],
        logger,
        onBatch: (b) => this.onLog(b.messages),
      });
      // Until the window is read, the last own TOId may be stale and the lag too low (once
      // seen as 0 in a test that asked right after stopping a sender): answer only after.
      await this.follower.caughtUp;
    })().catch((e: unknown) => {
      this.started = undefined;
      throw e;
    }));
  }

  /** Log messages in order: own records are where this datacenter's clock entry grows. */
  onLog(messages: InMessage[]): void {
    const max = this.opts.maxTracked ?? 200000;
    for (const m of messages) {
      const own = ownToidAt(m, this.opts.dcId);
      if (own === undefined) continue;
      if (this.prevOwn !== undefined && own > this.prevOwn && this.timestamps.size < max)
        this.timestamps.set(own, Number(m.timestamp));
      this.prevOwn = own;
      if (own > this.endToid) this.endToid = own;
    }
  }

  /** This datacenter's highest own TOId seen in the log. */
  get lastOwnToid(): number {
    return this.endToid;
  }

  /** Log timestamp of own record `toid`, if it was seen and is still needed. */
  timestampOf(toid: number): number | undefined {
    return this.timestamps.get(toid);
  }

  /** The lag toward each peer (cached for a second: /metrics asks once per gauge). */
  lag(): Promise<ReplicationPeerLag[]> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < CACHE_MS) return this.cached.value;
    // A broker that does not answer must not hang the admin view or a scrape.
    let timer: NodeJS.Timeout | undefined;
    const value = Promise.race([
      this.compute(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('replication lag: no answer in 15 s')), 15000);
        timer.unref();
      }),
    ]).finally(() => clearTimeout(timer));
    this.cached = { at: now, value };
    value.catch(() => (this.cached = undefined));
    return value;
  }

  private async compute(): Promise<ReplicationPeerLag[]> {
    await this.start();
    const { inspector, logTopic } = this.opts;
    const prefix = `${logTopic}.sender.dc`;
    const peers = new Set(this.opts.peers);
    for (const g of await inspector.listGroups(prefix)) {
      const n = Number(g.slice(prefix.length));
      if (Number.isInteger(n) && n > 0) peers.add(n);
    }
    const sorted = [...peers].sort((a, b) => a - b);
    const states = await inspector.describe(
      sorted.map((p) => ({ groupId: `${prefix}${p}`, topic: logTopic })),
    );
    const nowMs = Date.now();
    const out = states.map((s, i): ReplicationPeerLag => {
      const p0 = s.partitions[0];
      const progress = parseProgress(p0?.metadata);
      return {
        peer: sorted[i],
        group: s.groupId,
        state: s.state,
        ...peerLag({
          endToid: this.endToid,
          progress,
          committed: p0?.committed != null,
          offsetLag: s.lag,
          timestampOf: (t) => this.timestampOf(t),
          nowMs,
        }),
      };
    });
    // Timestamps every peer has been sent are not needed any more (the map is in TOId order).
    const minForwarded = Math.min(
      ...states.map((s) => parseProgress(s.partitions[0]?.metadata)?.toid ?? 0),
    );
    for (const t of this.timestamps.keys()) {
      if (t > minForwarded) break;
      this.timestamps.delete(t);
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.started?.catch(() => undefined);
    await this.follower?.close();
  }
}
