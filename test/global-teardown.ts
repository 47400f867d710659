/** Jest global teardown: stop the broker global-setup started (a no-op for KAFKA_BROKERS). */
export default async function globalTeardown(): Promise<void> {
  const broker = globalThis.__chariotsBroker;
  globalThis.__chariotsBroker = undefined;
  if (broker) await broker.stop();
}
