import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFileLock } from '../../src/kafka/broker/lock';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'chariots-lock-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

test('two holders never overlap', async () => {
  const lock = join(dir, 'x.lock');
  const events: string[] = [];
  const work = (name: string) =>
    withFileLock(lock, async () => {
      events.push(`${name}:in`);
      await new Promise((r) => setTimeout(r, 100));
      events.push(`${name}:out`);
    });
  await Promise.all([work('a'), work('b')]);
  expect(
    [events.slice(0, 2), events.slice(2)].map((p) => p[0].split(':')[0] === p[1].split(':')[0]),
  ).toEqual([true, true]);
});

test('a lock left by a dead process is taken over', async () => {
  const lock = join(dir, 'y.lock');
  // pid 2^22+1 is above the largest pid Linux can hand out (pid_max ≤ 2^22): never running.
  await writeFile(lock, JSON.stringify({ pid: 4194305, host: hostname(), at: Date.now() }));
  await expect(withFileLock(lock, async () => 'got it', { waitMs: 2000 })).resolves.toBe('got it');
});

test('a live holder makes others wait until the deadline', async () => {
  const lock = join(dir, 'z.lock');
  await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() }));
  await expect(withFileLock(lock, async () => 'never', { waitMs: 600 })).rejects.toThrow(
    /timed out/,
  );
});
