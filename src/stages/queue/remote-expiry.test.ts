import type { OutMessage, TxContext } from '../../kafka';
import { rootLogger } from '../../logger';
import { encodeIngest, logKeysOf, type IngestRecord } from '../../record';
import { CausalQueue } from './causal-queue';

/**
 * A replicated record waits for its origin's earlier records however long they take (a
 * stopped sender, a relay holding one message back): dead-lettering it would leave this log
 * without it for good, and every later record of its origin waiting behind it.
 */
const logger = rootLogger.child({ test: 'remote-expiry' });
logger.level = 'silent';

const base = { seed: '1', tags: {}, prehash: [], parent: [], receivedAt: '' };

async function queueWith(records: IngestRecord[]) {
  const sent: OutMessage[] = [];
  const runTx = async (_p: number, fn: (tx: TxContext) => void) => {
    const commits: Array<() => void> = [];
    fn({ send: (...m) => sent.push(...m), onCommit: (f) => commits.push(f) });
    for (const f of commits) f();
    return true;
  };
  const q = new CausalQueue(
    { released: 'released', deferred: 'deferred', deadletter: 'dl' },
    1000,
    runTx,
    logger,
  );
  await runTx(0, (tx) =>
    q.processBatch(
      {
        topic: 'filtered',
        partition: 0,
        highWatermark: '0',
        messages: records.map((r, i) => ({
          topic: 'filtered',
          partition: 0,
          offset: String(i),
          key: null,
          value: encodeIngest(r),
          timestamp: '0',
          headers: {},
        })),
      },
      tx,
    ),
  );
  return { q, sent };
}

describe('deferral timeout and replicated records', () => {
  it('dead-letters a waiting local record but never a waiting replicated one', async () => {
    const { q, sent } = await queueWith([
      { ...base, id: 'local', host: 1, parent: ['nowhere'] },
      { ...base, id: 'remote', host: 2, remote: { toid: 5, clock: { '2': 5 } } },
    ]);
    expect(q.deferred.size).toBe(2);
    await q.expire(Date.now() + 3_600_000);
    const dead = sent.filter((m) => m.topic === 'dl').map((m) => m.key);
    expect(dead).toEqual(['local']);
    expect(q.deferred.get('remote')).toBeDefined();
    expect(q.deferred.get('local')).toBeUndefined();
  });

  it('still releases the replicated record once its predecessor is in the log', async () => {
    const { q, sent } = await queueWith([
      { ...base, id: 'remote', host: 2, remote: { toid: 2, clock: { '2': 2 } } },
    ]);
    await q.expire(Date.now() + 3_600_000);
    q.onLog([
      logKeysOf({
        ...base,
        id: 'first',
        host: 2,
        lid: 1,
        toid: 1,
        appendedAt: '',
        remote: { toid: 1, clock: {} },
      }),
    ]);
    await new Promise((r) => setTimeout(r, 20));
    expect(sent.filter((m) => m.topic === 'released').map((m) => m.key)).toEqual(['remote']);
  });
});
