import { testEnvironment, testLogger } from '../../../test/helpers/cluster';
import { testProducer } from '../../../test/helpers/ingest';
import { encodeLogKeys, logKeysOf } from '../../record';
import { makeRecord } from '../../flstore/test-records';
import { LogWaiterFeed } from './log-waiter-feed';
import { AppendWaiters } from './waiters';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LogWaiterFeed (the logkeys follower behind ?wait=appended)', () => {
  it('follows the log only while it is used, and never misses a record produced after ready()', async () => {
    const env = await testEnvironment('waitfeed');
    const producer = await testProducer(env.kafka, { maxBatchMessages: 100, maxPending: 1000 });
    const waiters = new AppendWaiters();
    const feed = new LogWaiterFeed(env.kafka, env.topics.logkeys, waiters, testLogger, 1500);
    const append = (lid: number) => {
      const record = makeRecord(lid);
      // What the sequencer writes to logkeys with each log record.
      const [value] = encodeLogKeys([logKeysOf(record)]);
      return producer.send({ topic: env.topics.logkeys, key: null, value });
    };
    try {
      await append(1); // before anyone waits: nobody follows logkeys
      expect(feed.running).toBe(false);

      for (const lid of [2, 3]) {
        // The produce right after ready(): the record must be seen even though the
        // follower's group is still joining (its start offset was fixed by ready()).
        await feed.ready();
        const w = waiters.register(`id-${lid}`, 20_000);
        await append(lid);
        await expect(w.appended).resolves.toBe(lid);
        expect(feed.running).toBe(true);
        // Idle for longer than idleMs with no waiter: the follower stops.
        for (let i = 0; i < 40 && feed.running; i++) await sleep(250);
        expect(feed.running).toBe(false);
      }
    } finally {
      await feed.close();
      await producer.close();
    }
  }, 90_000);
});
