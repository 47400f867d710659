import { buildAdminView, stageGroups } from './admin';
import { topicNames, type GroupState, type HeartbeatEntry } from '../kafka';
import type { StageName } from '../stage-names';

const group = (
  stage: StageName,
  groupId: string,
  lag: number,
  instances: GroupState['instances'],
): GroupState & { stage: StageName } => ({
  stage,
  groupId,
  topic: 't',
  state: instances.length ? 'Stable' : 'Empty',
  instances,
  lag,
  partitions: [{ partition: 0, end: String(lag), committed: null, lag }],
});

const beat = (id: string, v: Partial<HeartbeatEntry>): HeartbeatEntry => ({
  id,
  stage: 'batcher',
  at: new Date().toISOString(),
  seenAt: Date.now(),
  ...v,
});

describe('admin view', () => {
  it('names the stage groups as the stages do', () => {
    expect(stageGroups(topicNames('dc1.'))).toEqual([
      { stage: 'filter', groupId: 'dc1.ingest.filter', topic: 'dc1.ingest' },
      { stage: 'queue', groupId: 'dc1.filtered.queue', topic: 'dc1.filtered' },
      { stage: 'sequencer', groupId: 'dc1.released.sequencer', topic: 'dc1.released' },
    ]);
  });

  it("builds GoChariots' shape plus stages with instances, partitions and lag", () => {
    const v = buildAdminView({
      groups: [
        group('filter', 'dc1.ingest.filter', 3, [
          { clientId: 'chariots', host: '10.0.0.1', memberId: 'a', partitions: [0, 1] },
          { clientId: 'chariots', host: '10.0.0.2', memberId: 'b', partitions: [2, 3] },
        ]),
        group('queue', 'dc1.filtered.queue', 0, []),
        group('sequencer', 'dc1.released.sequencer', 1, [
          { clientId: 'chariots', host: '10.0.0.3', memberId: 'c', partitions: [0] },
        ]),
        group('sender', 'dc1.log.sender.dc2', 5, []),
      ],
      beats: [
        beat('b1', { url: 'http://10.0.0.5:8080', tcp: '10.0.0.5:9000', host: 'h5' }),
        beat('m1', { stage: 'maintainer', url: 'http://10.0.0.6:8082', offset: '40' }),
      ],
      logEnd: '42',
      senderGroupPrefix: 'dc1.log.sender.',
      replication: [
        { peer: 2, group: 'dc1.log.sender.dc2', state: 'Empty', records: 7, seconds: 61 },
        { peer: 3, group: 'dc1.log.sender.dc3', state: 'Dead', records: 40, seconds: 0 },
      ],
    });
    expect(v).toMatchObject({
      apps: ['10.0.0.5:8080'],
      batchers: ['10.0.0.5:9000'],
      filters: ['10.0.0.1', '10.0.0.2'],
      queues: [],
      maintainers: ['10.0.0.6:8082'],
      indexers: [],
      remoteBatchers: ['dc2', 'dc3'],
      replication: {
        dc2: { records: 7, seconds: 61, state: 'Empty' },
        dc3: { records: 40, seconds: 0, state: 'Dead' },
      },
    });
    expect(v.stages.filter).toMatchObject({
      lag: 3,
      instances: [
        { host: '10.0.0.1', partitions: [0, 1] },
        { host: '10.0.0.2', partitions: [2, 3] },
      ],
    });
    expect(v.stages.sequencer!.instances[0].partitions).toEqual([0]);
    expect(v.stages.sender!.lag).toBe(5);
    expect(v.stages.batcher!.instances).toEqual([
      { clientId: 'b1', host: 'h5', url: 'http://10.0.0.5:8080', partitions: [] },
    ]);
    expect(v.stages.maintainer!.lag).toBe(2);
  });
});
