import { retryConcurrentTransactions } from './retry';

const busy = Object.assign(new Error('another operation on the same transaction'), {
  type: 'CONCURRENT_TRANSACTIONS',
});

describe('retryConcurrentTransactions', () => {
  it('sends again while the coordinator answers CONCURRENT_TRANSACTIONS', async () => {
    let calls = 0;
    const result = await retryConcurrentTransactions(async () => {
      calls++;
      if (calls < 3) throw busy;
      return 'sent';
    });
    expect(result).toBe('sent');
    expect(calls).toBe(3);
  });

  it('gives any other error back at once', async () => {
    let calls = 0;
    const fenced = Object.assign(new Error('fenced'), { type: 'PRODUCER_FENCED' });
    await expect(
      retryConcurrentTransactions(async () => {
        calls++;
        throw fenced;
      }),
    ).rejects.toBe(fenced);
    expect(calls).toBe(1);
  });
});
