/**
 * Readiness is the AND of named checks that stages register (broker reachable, partitions
 * prepared, …). `/readyz` reports each one so an operator sees WHICH part is not ready.
 */
export type ReadinessCheck = () => Promise<boolean> | boolean;

export class Health {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  unregister(name: string): void {
    this.checks.delete(name);
  }

  async readiness(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const entries = await Promise.all(
      [...this.checks.entries()].map(async ([name, check]) => {
        try {
          return [name, await check()] as const;
        } catch {
          return [name, false] as const;
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    return { ready: entries.every(([, ok]) => ok), checks };
  }
}
