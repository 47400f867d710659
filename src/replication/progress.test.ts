import fc from 'fast-check';
import type { InMessage } from '../kafka';
import type { GroupInspector, KafkaClient } from '../kafka';
import { rootLogger } from '../logger';
import { ReplicationLagView } from './lag-view';
import { encodeProgress, parseProgress, peerLag, progressAfter } from './progress';

const logMsg = (offset: number, vc: Record<string, number> | undefined, ts: number): InMessage => ({
  topic: 'log',
  partition: 0,
  offset: String(offset),
  key: null,
  value: Buffer.from('{}'),
  timestamp: String(ts),
  headers: vc ? { vc: JSON.stringify(vc) } : {},
});

describe('sender progress (offset metadata)', () => {
  it('round-trips and ignores metadata it did not write', () => {
    expect(parseProgress(encodeProgress({ toid: 42, ts: 1700 }))).toEqual({ toid: 42, ts: 1700 });
    for (const bad of [null, undefined, '', 'x', '{"toid":1.5,"ts":1}', '{"ts":1}', '[]'])
      expect(parseProgress(bad)).toBeUndefined();
  });

  it("is this datacenter's clock entry and timestamp at the batch's last message", () => {
    expect(progressAfter(logMsg(9, { '1': 4, '2': 7 }, 123), 1)).toEqual({ toid: 4, ts: 123 });
    expect(progressAfter(logMsg(9, { '2': 7 }, 123), 1)).toEqual({ toid: 0, ts: 123 });
    expect(progressAfter(logMsg(9, undefined, 123), 1)).toBeUndefined();
  });
});

describe('peer lag', () => {
  const base = { committed: true, offsetLag: 0, timestampOf: () => undefined, nowMs: 100_000 };

  it('is zero when the peer was sent every own record', () => {
    expect(peerLag({ ...base, endToid: 5, progress: { toid: 5, ts: 1 } })).toEqual({
      records: 0,
      seconds: 0,
    });
  });

  it('counts own records past the progress and ages the oldest of them', () => {
    const ts = new Map([
      [6, 40_000],
      [7, 90_000],
    ]);
    expect(
      peerLag({
        ...base,
        endToid: 7,
        progress: { toid: 5, ts: 10_000 },
        timestampOf: (t) => ts.get(t),
      }),
    ).toEqual({ records: 2, seconds: 60 });
  });

  it('falls back to the time since the last forwarded message (an upper bound)', () => {
    expect(peerLag({ ...base, endToid: 9, progress: { toid: 5, ts: 70_000 } })).toEqual({
      records: 4,
      seconds: 30,
    });
  });

  it('counts everything for a sender that never committed, offsets for an old one', () => {
    expect(peerLag({ ...base, endToid: 9, committed: false, offsetLag: 50 }).records).toBe(9);
    expect(peerLag({ ...base, endToid: 9, committed: true, offsetLag: 3 }).records).toBe(3);
  });

  it('never goes negative, whatever the order the views were read in (property)', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), fc.nat(10 ** 9), (end, fwd, ts) => {
        const l = peerLag({ ...base, endToid: end, progress: { toid: fwd, ts }, nowMs: 0 });
        expect(l.records).toBe(Math.max(0, end - fwd));
        expect(l.seconds).toBeGreaterThanOrEqual(0);
        if (l.records === 0) expect(l.seconds).toBe(0);
      }),
    );
  });
});

describe('ReplicationLagView', () => {
  const logger = rootLogger.child({ test: 'lag-view' });
  logger.level = 'silent';

  it("keeps the timestamps of own records only (where this datacenter's clock entry grows)", () => {
    const v = new ReplicationLagView({
      kafka: {} as KafkaClient,
      inspector: {} as GroupInspector,
      logTopic: 'log',
      dcId: 1,
      peers: [2],
      logger,
    });
    v.onLog([
      logMsg(0, { '1': 3 }, 10),
      logMsg(1, { '1': 3, '2': 1 }, 20),
      logMsg(2, { '1': 4, '2': 1 }, 30),
      logMsg(3, { '1': 4, '2': 2 }, 40),
      logMsg(4, { '1': 5, '2': 2 }, 50),
    ]);
    expect(v.lastOwnToid).toBe(5);
    // The first message seen cannot be told apart (no previous clock): not tracked.
    expect([3, 4, 5].map((t) => v.timestampOf(t))).toEqual([undefined, 30, 50]);
  });

  it('computes the lag per configured and discovered peer from the sender groups', async () => {
    const inspector = {
      endOffsets: async () => [{ partition: 0, high: '0', low: '0' }],
      listGroups: async () => ['log.sender.dc3'],
      describe: async (qs: Array<{ groupId: string }>) =>
        qs.map((q) => ({
          groupId: q.groupId,
          topic: 'log',
          state: q.groupId.endsWith('dc2') ? 'Empty' : 'Stable',
          instances: [],
          lag: 3,
          partitions: [
            {
              partition: 0,
              end: '10',
              committed: '7',
              lag: 3,
              metadata: encodeProgress({ toid: q.groupId.endsWith('dc2') ? 3 : 5, ts: 0 }),
            },
          ],
        })),
    } as unknown as GroupInspector;
    const v = new ReplicationLagView({
      kafka: {} as KafkaClient,
      inspector,
      logTopic: 'log',
      dcId: 1,
      peers: [2],
      logger,
    });
    // Started as if the log had already been read (no broker in a unit test).
    (v as unknown as { started: Promise<void> }).started = Promise.resolve();
    v.onLog([
      logMsg(0, { '1': 2 }, 1),
      logMsg(1, { '1': 3 }, 1),
      logMsg(2, { '1': 4 }, Date.now() - 5000),
    ]);
    expect(v.timestampOf(3)).toBe(1);
    v.onLog([logMsg(3, { '1': 5 }, Date.now())]);
    const lag = await v.lag();
    expect(lag.map((l) => [l.peer, l.state, l.records])).toEqual([
      [2, 'Empty', 2],
      [3, 'Stable', 0],
    ]);
    expect(lag[0].seconds).toBeGreaterThanOrEqual(4.9);
    expect(lag[0].seconds).toBeLessThan(60);
    // Records every peer has been sent no longer need a timestamp.
    expect(v.timestampOf(4)).toBeDefined();
    expect(v.timestampOf(3)).toBeUndefined();
  });
});
