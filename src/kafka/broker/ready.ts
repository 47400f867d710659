import { Kafka, logLevel } from 'kafkajs';

/**
 * Ready = a metadata round trip works (describeCluster) AND the group and transaction
 * coordinators answer. A fresh broker creates __consumer_offsets and __transaction_state
 * on first use, and until then consumers and transactional producers see "coordinator not
 * available / loading" errors and back off for seconds; warming both up here makes the
 * first test or `chariots dev` stage start at full speed. Fails fast if the JVM died.
 */
export async function waitReady(
  brokers: string[],
  timeoutMs: number,
  dead: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const kafka = new Kafka({
    clientId: 'chariots-broker-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  const steps: Array<[string, () => Promise<boolean>]> = [
    ['metadata', async () => (await admin.describeCluster()).brokers.length > 0],
    // FindCoordinator(GROUP) creates __consumer_offsets; describeGroups goes through it.
    [
      'group coordinator',
      async () => (await admin.describeGroups(['chariots-broker-warmup'])).groups.length === 1,
    ],
    // InitProducerId with a transactional id creates __transaction_state.
    [
      'transaction coordinator',
      async () => {
        const p = kafka.producer({
          transactionalId: 'chariots-broker-warmup',
          idempotent: true,
          maxInFlightRequests: 1,
          retry: { retries: 5, initialRetryTime: 100 }, // kafkajs refuses an idempotent producer without retries
        });
        try {
          await p.connect();
          return true;
        } finally {
          await p.disconnect().catch(() => undefined);
        }
      },
    ],
  ];
  let last: unknown;
  try {
    for (const [name, step] of steps) {
      for (;;) {
        if (dead()) throw new Error(`kafka exited during startup (waiting for ${name})`);
        if (Date.now() > deadline) {
          throw new Error(
            `kafka not ready after ${timeoutMs} ms: no ${name} (${(last as Error)?.message ?? 'no answer'})`,
          );
        }
        try {
          await admin.connect();
          if (await step()) break;
        } catch (e) {
          last = e;
          if (name === 'metadata') await admin.disconnect().catch(() => undefined);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
