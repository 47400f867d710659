import { LoopLag, nextLag } from './loop-lag';

describe('event-loop lag', () => {
  it('rises at once with a late tick and decays while ticks are on time', () => {
    let lag = nextLag(0, 500);
    expect(lag).toBe(500);
    let ticks = 0;
    while (lag > 100) {
      lag = nextLag(lag, 0);
      ticks++;
    }
    // 500 → under 100 ms in 8 on-time ticks: ~160 ms at a 20 ms period.
    expect(ticks).toBe(8);
    expect(nextLag(10, -5)).toBe(8);
  });

  it('reports lagging after the loop was blocked, and not when 0 (off)', async () => {
    const lag = new LoopLag(50, 10);
    const off = new LoopLag(0, 10);
    try {
      await new Promise((r) => setTimeout(r, 30));
      expect(lag.lagging()).toBe(false);
      const until = Date.now() + 200;
      while (Date.now() < until); // block the loop
      await new Promise((r) => setTimeout(r, 15));
      expect(lag.delayMs).toBeGreaterThan(50);
      expect(lag.lagging()).toBe(true);
      // A caller with a smaller share (TCP) backs off at a smaller lag than HTTP.
      expect(lag.lagging(0.5)).toBe(true);
      expect(off.lagging()).toBe(false);
    } finally {
      lag.close();
      off.close();
    }
  });
});
