import { hostname } from 'node:os';
import { open, readFile, rm } from 'node:fs/promises';
import { ChariotsError } from '../errors';

export interface DirLock {
  readonly path: string;
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  host: string;
  owner: string;
  since: string;
}

/**
 * Takes `<dir>.lock` so that one writer at a time works on a store directory (a maintainer,
 * `chariots rebuild`). The lock file is created exclusively and names its holder; a holder
 * on this host whose process is gone (kill -9, power loss) left a stale lock, which is
 * taken over. Anything else fails with CHARIOTS_ERR_STORE_LOCKED naming the holder.
 * A lock held from another host (a shared volume) is never considered stale.
 */
export async function lockDir(dir: string, owner: string): Promise<DirLock> {
  const path = `${dir}.lock`;
  const me: Holder = {
    pid: process.pid,
    host: hostname(),
    owner,
    since: new Date().toISOString(),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(`${JSON.stringify(me)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      let released = false;
      return {
        path,
        release: async () => {
          if (released) return;
          released = true;
          await rm(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = await readHolder(path);
    // An unreadable lock file is one being written this instant: look again once.
    if (attempt < 2 && (holder === undefined || isStale(holder))) {
      if (holder) await rm(path, { force: true });
      else await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    throw new ChariotsError(
      'CHARIOTS_ERR_STORE_LOCKED',
      `${dir} is in use by ${holder ? `${holder.owner} (pid ${holder.pid} on ${holder.host}, since ${holder.since})` : 'another process'}; stop it first, or remove ${path} if no such process runs`,
      { details: { dir, lock: path, holder } },
    );
  }
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const h = JSON.parse(await readFile(path, 'utf8')) as Holder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

function isStale(h: Holder): boolean {
  if (h.host !== hostname()) return false;
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
