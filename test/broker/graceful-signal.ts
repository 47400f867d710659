/**
 * Child script for graceful-signal.int.test.ts: starts a broker from jars, installs its own
 * SIGINT handler (as `chariots dev` does), and on SIGINT checks that the broker still answers
 * before stopping it itself. Prints REACHABLE_AFTER_SIGINT=<bool>.
 */
import { createKafkaClient } from '../../src/kafka';
import { BrokerProbe } from '../../src/kafka/admin';
import { defaultCacheDir, ensureKafkaJars } from '../../src/kafka/broker/jars';
import { startKafkaFromJars } from '../../src/kafka/broker/kafka-process';
import { rootLogger } from '../../src/logger';

async function main() {
  rootLogger.level = 'silent';
  const dist = await ensureKafkaJars({ cacheDir: defaultCacheDir(), logger: rootLogger });
  const k = await startKafkaFromJars(dist, { logger: rootLogger });
  const probe = new BrokerProbe(
    createKafkaClient(
      {
        brokers: k.brokers,
        clientId: 't',
        connectionTimeoutMs: 1000,
        requestTimeoutMs: 3000,
        sessionTimeoutMs: 10000,
        ssl: false,
        saslMechanism: 'none',
        saslUsername: '',
        saslPassword: '',
        sslCaFile: '',
        sslCertFile: '',
        sslKeyFile: '',
      } as never,
      rootLogger,
    ),
  );
  process.on('SIGINT', () => {
    void (async () => {
      await new Promise((r) => setTimeout(r, 1500));
      const ok = await probe.reachable(5000);
      process.stdout.write(`REACHABLE_AFTER_SIGINT=${ok}\n`);
      await probe.close();
      await k.stop();
      process.exit(0);
    })();
  });
  process.stdout.write('READY\n');
}
void main();
