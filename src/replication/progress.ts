import type { InMessage } from '../kafka';

/**
 * How far a peer's sender has gone, committed with its offset (Kafka offset metadata) so that
 * any process can read it from the group, even while the sender is stopped:
 * `toid` = the highest of this datacenter's own TOIds forwarded (the log's vector-clock entry
 * for this datacenter at the last forwarded log message), `ts` = that message's timestamp (ms).
 */
export interface SenderProgress {
  toid: number;
  ts: number;
}

export function encodeProgress(p: SenderProgress): string {
  return JSON.stringify({ toid: p.toid, ts: p.ts });
}

export function parseProgress(s: string | null | undefined): SenderProgress | undefined {
  if (!s) return undefined;
  try {
    const v = JSON.parse(s) as Partial<SenderProgress>;
    if (Number.isInteger(v.toid) && Number.isFinite(v.ts))
      return { toid: v.toid as number, ts: v.ts as number };
  } catch {
    // Metadata written by something else: no progress known.
  }
  return undefined;
}

/** This datacenter's own TOId in the log's vector clock right after `m` (its `vc` header). */
export function ownToidAt(m: InMessage, dcId: number): number | undefined {
  if (!m.headers.vc) return undefined;
  try {
    const clock = JSON.parse(m.headers.vc) as Record<string, number>;
    return clock[String(dcId)] ?? 0;
  } catch {
    return undefined;
  }
}

/** The progress after forwarding a batch that ends with `last` (undefined without a clock). */
export function progressAfter(last: InMessage, dcId: number): SenderProgress | undefined {
  const toid = ownToidAt(last, dcId);
  return toid === undefined ? undefined : { toid, ts: Number(last.timestamp) };
}

export interface PeerLagInput {
  /** This datacenter's highest own TOId in its log. */
  endToid: number;
  /** From the sender group's committed metadata; undefined = nothing known. */
  progress?: SenderProgress;
  /** The group committed an offset (without progress metadata: an older sender). */
  committed: boolean;
  /** Offsets the group is behind the log end (all origins): the fallback record count. */
  offsetLag: number;
  /** Log timestamp of one of this datacenter's own records by TOId, when known. */
  timestampOf: (toid: number) => number | undefined;
  nowMs: number;
}

export interface PeerLag {
  /** Own records the peer has not been sent yet. */
  records: number;
  /** Age of the oldest of them (0 when none). */
  seconds: number;
}

/**
 * Replication lag toward one peer. The age is that of the oldest unforwarded own record;
 * when its timestamp is not known (older than what this process has seen of the log), the
 * time since the last forwarded message is used: never less than the true age.
 */
export function peerLag(i: PeerLagInput): PeerLag {
  const forwarded = i.progress?.toid ?? (i.committed ? undefined : 0);
  const records =
    forwarded === undefined ? Math.min(i.offsetLag, i.endToid) : Math.max(0, i.endToid - forwarded);
  if (records === 0) return { records: 0, seconds: 0 };
  const oldest = i.timestampOf((forwarded ?? i.endToid - records) + 1) ?? i.progress?.ts;
  const seconds = oldest === undefined ? 0 : Math.max(0, i.nowMs - oldest) / 1000;
  return { records, seconds };
}
