import { testEnvironment, testLogger } from '../../../test/helpers/cluster';
import { testProducer } from '../../../test/helpers/ingest';
import { parseDeferredEntry } from './entries';
import { LazyChangelogView } from './lazy-changelog';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LazyChangelogView (GET /deferred and /deadletter)', () => {
  it('reads the changelog only while listed, and a restarted view sees everything again', async () => {
    const env = await testEnvironment('lazyview');
    const producer = await testProducer(env.kafka, { maxBatchMessages: 100, maxPending: 1000 });
    const view = new LazyChangelogView(
      env.kafka,
      env.topics.deferred,
      parseDeferredEntry,
      testLogger,
      { idleMs: 1500 },
    );
    const put = (id: string, value: string | null) =>
      producer.send({
        topic: env.topics.deferred,
        key: id,
        value: value === null ? null : Buffer.from(value),
      });
    const entry = (n: number) => JSON.stringify({ deadline: null, missing: [`p:x${n}`] });
    try {
      await put('a', entry(1));
      await put('b', entry(2));
      await put('\u0001input-offset', '7'); // the queue's control entry: never listed
      expect(view.running).toBe(false); // nobody asked: nothing is read

      // The first use reads from the start and waits until it caught up.
      let v = await view.view();
      expect(view.running).toBe(true);
      expect(v.page(10).items.map((e) => [e.id, e.missing])).toEqual([
        ['a', ['p:x1']],
        ['b', ['p:x2']],
      ]);

      await put('a', null); // released: tombstone
      await put('c', entry(3));
      for (let i = 0; i < 40 && v.size !== 2; i++) await sleep(100);
      expect(v.page(10).items.map((e) => e.id)).toEqual(['b', 'c']);

      // Idle for longer than idleMs: the follower stops and its view is dropped.
      for (let i = 0; i < 40 && view.running; i++) await sleep(250);
      expect(view.running).toBe(false);
      await put('d', entry(4));
      v = await view.view();
      expect(v.page(10).items.map((e) => e.id)).toEqual(['b', 'c', 'd']);
    } finally {
      await view.close();
      await producer.close();
    }
  }, 90_000);

  it('a view that cannot catch up in time answers BROKER_UNAVAILABLE, and close() does not wait for a start', async () => {
    const env = await testEnvironment('lazyview-slow');
    // 1 ms: no follower can start and catch up that fast (several broker round trips).
    const slow = new LazyChangelogView(
      env.kafka,
      env.topics.deferred,
      parseDeferredEntry,
      testLogger,
      {
        catchUpMs: 1,
      },
    );
    try {
      await expect(slow.view()).rejects.toMatchObject({ code: 'CHARIOTS_ERR_BROKER_UNAVAILABLE' });
      expect(slow.running).toBe(false); // the next request starts over
    } finally {
      await slow.close();
    }
    const closing = new LazyChangelogView(
      env.kafka,
      env.topics.deferred,
      parseDeferredEntry,
      testLogger,
      {
        catchUpMs: 60_000,
      },
    );
    const first = closing.view().catch((e: unknown) => e);
    const t0 = Date.now();
    await closing.close();
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await first).toMatchObject({ code: 'CHARIOTS_ERR_BROKER_UNAVAILABLE' });
  }, 60_000);
});
