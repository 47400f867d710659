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

  it('parses raw values only when they are read, from a copy of the bytes', () => {
    const parsed: string[] = [];
    const v = new ChangelogView<{ key: string; n: number }>((key, bytes) => {
      parsed.push(key);
      return { key, n: Number(bytes.toString()) };
    });
    const fetched = Buffer.from('1|22|333');
    v.setRaw('a', fetched.subarray(0, 1));
    v.setRaw('b', fetched.subarray(2, 4));
    v.setRaw('b', fetched.subarray(5, 8));
    expect(parsed).toEqual([]);
    fetched.fill(0x39); // the fetch buffer is reused: the view kept its own copies
    expect(v.get('b')).toEqual({ key: 'b', n: 333 });
    expect(v.page(10).items).toEqual([
      { key: 'a', n: 1 },
      { key: 'b', n: 333 },
    ]);
    expect(parsed).toEqual(['b', 'a', 'b']);
    expect(() => new ChangelogView<number>().setRaw('x', Buffer.from('1'))).toThrow(/parse/);
  });
});
