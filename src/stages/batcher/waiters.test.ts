import { ChariotsError } from '../../errors';
import { ChangelogView } from './changelog-view';
import { AppendWaiters } from './waiters';

describe('AppendWaiters', () => {
  it('resolves every waiter of an id with its lid and forgets it', async () => {
    const w = new AppendWaiters();
    const a = w.register('x', 1000);
    const b = w.register('x', 1000);
    w.appended('y', 1);
    w.appended('x', 9);
    await expect(a.appended).resolves.toBe(9);
    await expect(b.appended).resolves.toBe(9);
    expect(w.size).toBe(0);
  });

  it('times out with CHARIOTS_ERR_TIMEOUT; cancel and rejectAll clean up', async () => {
    const w = new AppendWaiters();
    await expect(w.register('t', 10).appended).rejects.toMatchObject({
      code: 'CHARIOTS_ERR_TIMEOUT',
    });
    w.register('c', 1000).cancel();
    expect(w.size).toBe(0);
    const s = w.register('s', 1000);
    w.rejectAll(new ChariotsError('CHARIOTS_ERR_SHUTTING_DOWN', 'bye'));
    await expect(s.appended).rejects.toMatchObject({ code: 'CHARIOTS_ERR_SHUTTING_DOWN' });
    expect(w.size).toBe(0);
  });
});

describe('ChangelogView', () => {
  it('keeps the latest value per key, deletes on tombstone, pages by key', () => {
    const v = new ChangelogView<number>();
    v.set('b', 1);
    v.set('a', 2);
    v.set('b', 3);
    expect(v.page(10)).toEqual({ items: [2, 3], next: null });
    v.delete('a');
    expect(v.size).toBe(1);
    v.set('c', 4);
    expect(v.page(1)).toEqual({ items: [3], next: 'b' });
    expect(v.page(1, 'b')).toEqual({ items: [4], next: null });
  });
});
