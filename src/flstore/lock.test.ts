import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { lockDir } from './lock';
import { FlStore } from './store';

let root: string;
beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'fllock-'))));
afterEach(() => rmSync(root, { recursive: true, force: true }));

const holder = (pid: number, host = hostname()) =>
  `${JSON.stringify({ pid, host, owner: 'maintainer', since: '2026-01-01T00:00:00Z' })}\n`;

/** The pid of a process that has exited (so no live process has it, barring reuse). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('store directory lock', () => {
  it('lets one holder at a time write, naming the holder to the others', async () => {
    const dir = join(root, 'flstore');
    const a = await lockDir(dir, 'maintainer');
    const err = await lockDir(dir, 'chariots rebuild').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CHARIOTS_ERR_STORE_LOCKED' });
    expect(String((err as Error).message)).toContain(`maintainer (pid ${process.pid}`);
    await a.release();
    expect(existsSync(`${dir}.lock`)).toBe(false);
    await (await lockDir(dir, 'chariots rebuild')).release();
  });

  it('takes over a lock whose process is gone, never one from another host', async () => {
    const dir = join(root, 'flstore');
    writeFileSync(`${dir}.lock`, holder(deadPid()));
    const l = await lockDir(dir, 'maintainer');
    expect(JSON.parse(readFileSync(l.path, 'utf8')).pid).toBe(process.pid);
    await l.release();
    writeFileSync(`${dir}.lock`, holder(deadPid(), `not-${hostname()}`));
    await expect(lockDir(dir, 'maintainer')).rejects.toMatchObject({
      code: 'CHARIOTS_ERR_STORE_LOCKED',
    });
    writeFileSync(`${dir}.lock`, '');
    await expect(lockDir(dir, 'maintainer')).rejects.toMatchObject({
      code: 'CHARIOTS_ERR_STORE_LOCKED',
    });
  });

  it('FlStore holds it from open to close', async () => {
    const opts = {
      dir: join(root, 'flstore'),
      segmentBytes: 4096,
      fsync: 'never' as const,
      fsyncIntervalMs: 1000,
      logger: pino({ level: 'silent' }),
    };
    const s = await FlStore.open(opts);
    await expect(FlStore.open(opts)).rejects.toMatchObject({ code: 'CHARIOTS_ERR_STORE_LOCKED' });
    await expect(lockDir(opts.dir, 'chariots rebuild')).rejects.toMatchObject({
      code: 'CHARIOTS_ERR_STORE_LOCKED',
    });
    await s.close();
    await (await FlStore.open(opts)).close();
  });
});
