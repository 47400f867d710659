import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { withFileLock } from './lock';
import { run, tail } from './tools';

/**
 * The Kafka jars come from Maven Central through deploy/kafka-local/pom.xml. The version is
 * that pom's `kafka.version` property and nowhere else, so changing it is a one-line edit.
 */
export interface KafkaDist {
  version: string;
  libDir: string;
  log4jConfig: string;
  /** Class Data Sharing archives for this jar set (see cds.ts). */
  cdsDir: string;
}

/** The repo root is wherever deploy/kafka-local/pom.xml is (works from src/ and dist/). */
export function findRepoRoot(from = __dirname): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'deploy', 'kafka-local', 'pom.xml'))) return dir;
    if (dirname(dir) === dir) throw new Error(`deploy/kafka-local/pom.xml not found above ${from}`);
  }
}

export function defaultCacheDir(root = findRepoRoot()): string {
  return process.env.CHARIOTS_CACHE_DIR || join(root, '.cache');
}

export async function readKafkaVersion(pomPath: string): Promise<string> {
  const m = /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(
    await readFile(pomPath, 'utf8'),
  );
  if (!m) throw new Error(`no <kafka.version> property in ${pomPath}`);
  return m[1];
}

/**
 * Makes sure `<cacheDir>/kafka-<version>/lib` holds every runtime jar. Fetched once: the
 * marker file (written last, holding the pom's hash) tells a complete copy from a download
 * that died half way, and from a copy made for an older pom. Maven copies into a scratch
 * directory that is renamed into place, under a lock so parallel runs don't interleave.
 */
export async function ensureKafkaJars(opts: {
  cacheDir: string;
  logger: Logger;
  onProgress?: (msg: string) => void;
}): Promise<KafkaDist> {
  const root = findRepoRoot();
  const pom = join(root, 'deploy', 'kafka-local', 'pom.xml');
  const version = await readKafkaVersion(pom);
  const pomHash = createHash('sha256')
    .update(await readFile(pom))
    .digest('hex');
  const base = join(opts.cacheDir, `kafka-${version}`);
  const libDir = join(base, 'lib');
  const marker = join(base, 'complete.json');
  const dist = {
    version,
    libDir,
    cdsDir: join(base, 'cds'),
    log4jConfig: join(root, 'deploy', 'kafka-local', 'log4j2.properties'),
  };
  if (await isComplete(marker, pomHash)) return dist;

  await mkdir(base, { recursive: true });
  await withFileLock(
    join(base, 'fetch.lock'),
    async () => {
      if (await isComplete(marker, pomHash)) return; // another process finished meanwhile
      const started = Date.now();
      opts.onProgress?.(`fetching Apache Kafka ${version} jars with Maven (first run only)`);
      // Leftovers of fetches killed half way (we hold the lock: nobody else is writing).
      for (const f of await readdir(base)) {
        if (f.startsWith('lib.partial-')) await rm(join(base, f), { recursive: true, force: true });
      }
      const scratch = join(base, `lib.partial-${process.pid}`);
      const res = await run(
        'mvn',
        [
          '-B',
          '-q',
          '-f',
          pom,
          'dependency:copy-dependencies',
          '-DincludeScope=runtime',
          `-DoutputDirectory=${scratch}`,
        ],
        { timeoutMs: 15 * 60_000, watchdog: true },
      );
      const jars = existsSync(scratch)
        ? (await readdir(scratch)).filter((f) => f.endsWith('.jar'))
        : [];
      if (res.code !== 0 || !jars.some((j) => j.startsWith(`kafka_2.13-${version}`))) {
        await rm(scratch, { recursive: true, force: true });
        throw new Error(
          `mvn dependency:copy-dependencies failed (exit ${res.code}) for Kafka ${version}:\n` +
            tail(res.stdout + res.stderr),
        );
      }
      await rm(libDir, { recursive: true, force: true });
      await rm(dist.cdsDir, { recursive: true, force: true }); // archives of the old jars
      await rename(scratch, libDir);
      await writeFile(
        marker,
        JSON.stringify({ version, pomHash, jars: jars.length, at: new Date().toISOString() }),
      );
      opts.logger.info(
        { version, jars: jars.length, ms: Date.now() - started },
        'kafka jars fetched',
      );
    },
    {
      onWait: () => opts.onProgress?.(`waiting for another process fetching Kafka ${version} jars`),
    },
  );
  return dist;
}

async function isComplete(marker: string, pomHash: string): Promise<boolean> {
  try {
    return (JSON.parse(await readFile(marker, 'utf8')) as { pomHash?: string }).pomHash === pomHash;
  } catch {
    return false;
  }
}
