import pino from 'pino';
import { LazyFollower } from './lazy-follower';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A resource whose close() finishes only when the test says so. */
function slowToClose() {
  let finish!: () => void;
  const closed = new Promise<void>((r) => (finish = r));
  const resource = { close: jest.fn(() => closed) };
  return { resource, finish };
}

describe('LazyFollower', () => {
  it('close() waits for an idle stop still under way (regression: it returned at once)', async () => {
    const { resource, finish } = slowToClose();
    const follower = new LazyFollower('test follower', () => Promise.resolve(resource), logger, {
      idleMs: 20,
    });
    await follower.use();
    // The idle check runs every idleMs: the follower stops, its close() still pending.
    for (let i = 0; i < 50 && follower.started; i++) await sleep(10);
    expect(follower.started).toBe(false);
    expect(resource.close).toHaveBeenCalledTimes(1);

    let closed = false;
    const closing = follower.close().then(() => (closed = true));
    await sleep(30);
    expect(closed).toBe(false);
    finish();
    await closing;
    expect(closed).toBe(true);
    expect(resource.close).toHaveBeenCalledTimes(1);
  });

  it('starts again on the next use after an idle stop', async () => {
    let starts = 0;
    const follower = new LazyFollower(
      'test follower',
      () => {
        starts++;
        return Promise.resolve({ close: () => Promise.resolve() });
      },
      logger,
      { idleMs: 20 },
    );
    await follower.use();
    for (let i = 0; i < 50 && follower.started; i++) await sleep(10);
    await follower.use();
    expect(starts).toBe(2);
    await follower.close();
  });
});
