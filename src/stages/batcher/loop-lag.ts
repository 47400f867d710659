import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/**
 * How late this process's event loop runs, sampled by a timer. Under a flood the batcher
 * can take in more work (TCP frames, admitted bodies) than its CPU share handles; then every
 * loop iteration is long, and new HTTP connections wait in the kernel's accept queue for
 * seconds — measured: 62 connections queued, taken ~1 per iteration, 6–8 s late, so their
 * clients timed out without ever getting a 429 (docs/reliability.md, "Overload"). Callers
 * take in no new work while the loop lags, which frees it to accept and answer.
 *
 * Late AND busy: a timer also runs late when OTHER processes hold the CPU (a busy CI machine
 * at load 9 on 2 cores), while this loop sits idle; refusing then helps nobody — it made an
 * idle batcher's first request a 429. So the loop must also have been busy (event-loop
 * utilization, the share of time spent running rather than waiting for I/O).
 */
export class LoopLag {
  private lateMs = 0;
  private lastTickLateMs = 0;
  private busyShare = 0;
  private lastTickBusy = 0;
  private readonly timer: NodeJS.Timeout;

  /** `sampleMs`: the timer's period; two late ticks in a row raise the lag, it decays by 20 % a tick. */
  constructor(
    private readonly maxDelayMs: number,
    sampleMs = 20,
    /** The loop's utilization (0..1) since the previous call; injectable for tests. */
    utilization: () => number = utilizationSince(),
  ) {
    let expected = Date.now() + sampleMs;
    this.timer = setInterval(() => {
      const now = Date.now();
      const late = now - expected;
      this.lateMs = nextLag(this.lateMs, this.lastTickLateMs, late);
      this.lastTickLateMs = late;
      // Same smoothing as the lateness (nextLag is unit-free): two busy ticks raise it.
      const busy = utilization();
      this.busyShare = nextLag(this.busyShare, this.lastTickBusy, busy);
      this.lastTickBusy = busy;
      expected = now + sampleMs;
    }, sampleMs);
    this.timer.unref();
  }

  /** The smoothed lateness of the loop (ms). */
  get delayMs(): number {
    return this.lateMs;
  }

  /** The smoothed share of time the loop was running (0..1). */
  get busy(): number {
    return this.busyShare;
  }

  /**
   * True while the loop lags more than `share` × maxDelayMs and was mostly busy (never when
   * maxDelayMs is 0). The TCP listener asks with a smaller share than HTTP admission, so it
   * backs off first.
   */
  lagging(share = 1): boolean {
    return (
      this.maxDelayMs > 0 && this.lateMs > this.maxDelayMs * share && this.busyShare >= MIN_BUSY
    );
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/** Below this utilization a late loop is starved by other processes, not overloaded. */
export const MIN_BUSY = 0.5;

function utilizationSince(): () => number {
  let previous: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, previous);
    previous = now;
    return delta.utilization;
  };
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
