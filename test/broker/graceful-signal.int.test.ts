/**
 * Regression: the broker module used to kill its JVM on the first SIGINT even when the
 * application handled the signal itself, so `chariots dev` drained its stages against a dead
 * broker (20 s of connection errors instead of a 2 s clean stop).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

it('leaves the broker running while the application handles SIGINT', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'graceful-signal.ts')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (out.includes('READY')) {
        clearInterval(t);
        resolve();
      }
    }, 100);
    child.once('exit', () => reject(new Error(`child exited early: ${out}`)));
  });
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
  expect(out).toContain('REACHABLE_AFTER_SIGINT=true');
}, 120000);
