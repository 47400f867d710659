import { open, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Segment `00000000000000000001.seg` holds LIds from 1; its index is `….idx` beside it. */
const NAME = /^(\d{20})\.seg$/;

export const segmentPath = (dir: string, firstLid: number) =>
  join(dir, `${String(firstLid).padStart(20, '0')}.seg`);
export const indexPath = (dir: string, firstLid: number) =>
  join(dir, `${String(firstLid).padStart(20, '0')}.idx`);
export const activePath = (dir: string, firstLid: number) =>
  join(dir, `${String(firstLid).padStart(20, '0')}.act`);

/** First LIds of the segments in `dir`, ascending (zero padding makes name order = LId order). */
export async function listSegments(dir: string): Promise<number[]> {
  const names = await readdir(dir);
  return names
    .map((n) => NAME.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** A new or renamed directory entry survives a crash only once the directory is synced. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `path` so that a crash leaves either the old file or the complete new one. */
export async function writeFileAtomic(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, data);
  const fh = await open(tmp, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
