import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';

/**
 * A cross-process lock: whoever creates `path` with O_EXCL holds it. Two `chariots dev` or
 * jest runs fetching the jars at once must not write the same cache directory. A lock whose
 * owner died (SIGKILL mid-download) would block everyone forever, so it is taken over when
 * its pid is gone (same host) or it is older than `staleMs`.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  opts: { waitMs?: number; staleMs?: number; onWait?: () => void } = {},
): Promise<T> {
  const waitMs = opts.waitMs ?? 10 * 60_000;
  const staleMs = opts.staleMs ?? 15 * 60_000;
  const deadline = Date.now() + waitMs;
  let warned = false;
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() }));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await isStale(path, staleMs)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${path}`);
    if (!warned) opts.onWait?.();
    warned = true;
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  try {
    const st = await stat(path);
    if (Date.now() - st.mtimeMs > staleMs) return true;
    const owner = JSON.parse(await readFile(path, 'utf8')) as { pid?: number; host?: string };
    if (owner.host !== hostname() || typeof owner.pid !== 'number') return false;
    return !pidAlive(owner.pid);
  } catch {
    // Vanished (released) or half-written by an owner that is writing it right now: retry.
    return false;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
