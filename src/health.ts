/**
 * Readiness is the AND of named checks that stages register (broker reachable, partitions
 * prepared, …). `/readyz` reports each one so an operator sees WHICH part is not ready.
 */
export type CheckResult = boolean | { ready: boolean; reason?: string };
export type ReadinessCheck = () => Promise<CheckResult> | CheckResult;

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
  /** Why a check is false, when it says (e.g. a stuck stage); absent when all are ready. */
  reasons?: Record<string, string>;
}

export class Health {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  unregister(name: string): void {
    this.checks.delete(name);
  }

  async readiness(): Promise<Readiness> {
    const entries = await Promise.all(
      [...this.checks.entries()].map(async ([name, check]) => {
        try {
          const r = await check();
          return typeof r === 'boolean' ? { name, ready: r } : { name, ...r };
        } catch (e) {
          return { name, ready: false, reason: `check failed: ${(e as Error).message}` };
        }
      }),
    );
    const checks = Object.fromEntries(entries.map((e) => [e.name, e.ready]));
    const reasons = Object.fromEntries(
      entries.filter((e) => !e.ready && e.reason).map((e) => [e.name, e.reason as string]),
    );
    return {
      ready: entries.every((e) => e.ready),
      checks,
      ...(Object.keys(reasons).length > 0 ? { reasons } : {}),
    };
  }
}
