/**
 * How late this process's event loop runs, sampled by a timer. Under a flood the batcher
 * can take in more work (TCP frames, admitted bodies) than its CPU share handles; then every
 * loop iteration is long, and new HTTP connections wait in the kernel's accept queue for
 * seconds — measured: 62 connections queued, taken ~1 per iteration, 6–8 s late, so their
 * clients timed out without ever getting a 429 (docs/reliability.md, "Overload"). Callers
 * take in no new work while the loop lags, which frees it to accept and answer.
 */
export class LoopLag {
  private lateMs = 0;
  private lastTickLateMs = 0;
  private readonly timer: NodeJS.Timeout;

  /** `sampleMs`: the timer's period; two late ticks in a row raise the lag, it decays by 20 % a tick. */
  constructor(
    private readonly maxDelayMs: number,
    sampleMs = 20,
  ) {
    let expected = Date.now() + sampleMs;
    this.timer = setInterval(() => {
      const now = Date.now();
      const late = now - expected;
      this.lateMs = nextLag(this.lateMs, this.lastTickLateMs, late);
      this.lastTickLateMs = late;
      expected = now + sampleMs;
    }, sampleMs);
    this.timer.unref();
  }

  /** The smoothed lateness of the loop (ms). */
  get delayMs(): number {
    return this.lateMs;
  }

  /**
   * True while the loop lags more than `share` × maxDelayMs (never when maxDelayMs is 0). The
   * TCP listener asks with a smaller share than HTTP admission, so it backs off first.
   */
  lagging(share = 1): boolean {
    return this.maxDelayMs > 0 && this.lateMs > this.maxDelayMs * share;
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/**
 * The lateness two ticks in a row agree on counts in full (a flood makes every iteration
 * long, so it shows at the second tick); otherwise the lag decays by 20 % a tick. One late
 * tick alone is a single long task (start-up, a module load, a major GC), not overload:
 * counting it at once refused the first request after a batcher started with 429 while the
 * machine was busy (CI, 2026-11-27: batcher.int.test.ts got 429 for its first POST /record).
 */
export function nextLag(previousMs: number, lastTickLateMs: number, lateMs: number): number {
  const sustained = Math.max(0, Math.min(lateMs, lastTickLateMs));
  return sustained >= previousMs ? sustained : 0.8 * previousMs + 0.2 * sustained;
}
