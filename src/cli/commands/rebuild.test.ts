import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDir } from '../../flstore/lock';

const ROOT = join(__dirname, '..', '..', '..');

/** The lock is taken before Kafka is contacted, so no broker is needed to see the refusal. */
describe('chariots rebuild', () => {
  it('refuses with CHARIOTS_ERR_STORE_LOCKED while a maintainer (or a rebuild) holds the store', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rebuild-lock-'));
    const lock = await lockDir(join(dataDir, 'p.flstore'), 'maintainer');
    try {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'src', 'cli', 'index.ts'), 'rebuild'],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            CHARIOTS_DATA_DIR: dataDir,
            CHARIOTS_TOPIC_PREFIX: 'p.',
            CHARIOTS_KAFKA_BROKERS: '127.0.0.1:1',
            CHARIOTS_LOG_LEVEL: 'silent',
          },
          encoding: 'utf8',
          timeout: 60000,
        },
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('CHARIOTS_ERR_STORE_LOCKED');
      expect(r.stdout).toBe('');
    } finally {
      await lock.release();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90000);
});
