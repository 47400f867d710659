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
  private readonly timer: NodeJS.Timeout;

  /** `sampleMs`: the timer's period; a late tick raises the lag at once, it decays by 20 % a tick. */
  constructor(
    private readonly maxDelayMs: number,
    sampleMs = 20,
  ) {
    let expected = Date.now() + sampleMs;
    this.timer = setInterval(() => {
      const now = Date.now();
      this.lateMs = nextLag(this.lateMs, now - expected);
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

/** A late tick counts in full (react at once); an on-time one lets the lag decay by 20 %. */
export function nextLag(previousMs: number, lateMs: number): number {
  const late = Math.max(0, lateMs);
  return late >= previousMs ? late : 0.8 * previousMs + 0.2 * late;
}
