import { Health } from './health';

it('readiness reports each check, and the reason of a failing one', async () => {
  const h = new Health();
  h.register('kafka', () => true);
  h.register('filter', () => ({ ready: false, reason: 'stuck: 5 records waiting' }));
  h.register('queue', async () => {
    throw new Error('boom');
  });
  expect(await h.readiness()).toEqual({
    ready: false,
    checks: { kafka: true, filter: false, queue: false },
    reasons: { filter: 'stuck: 5 records waiting', queue: 'check failed: boom' },
  });
  h.unregister('filter');
  h.unregister('queue');
  expect(await h.readiness()).toEqual({ ready: true, checks: { kafka: true } });
});
