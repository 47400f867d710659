import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors';
import { allOptions, type OptionInfo } from './paths';
import { configSchema, type ChariotsConfig } from './schema';

export interface ConfigSources {
  /** Path of a JSON config file (also CHARIOTS_CONFIG). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Flag values keyed by option key ("http.port"), as strings from the command line. */
  flags?: Record<string, string | undefined>;
  /** Programmatic overrides (tests, `chariots dev`), highest precedence. */
  overrides?: DeepPartial<ChariotsConfig>;
}

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};

/** Converts a string from env or a flag into the option's type, or says precisely why not. */
function coerce(opt: OptionInfo, raw: string, source: string): unknown {
  switch (opt.kind) {
    case 'number': {
      if (!/^-?\d+$/.test(raw.trim()))
        throw new ConfigError(`${source}: expected an integer, got "${raw}"`, { option: opt.key });
      return Number(raw.trim());
    }
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new ConfigError(`${source}: expected true or false, got "${raw}"`, { option: opt.key });
    }
    case 'array':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    default:
      return raw;
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const p of path.slice(0, -1)) {
    if (typeof node[p] !== 'object' || node[p] === null) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

function deepMerge(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    const prev = out[k];
    out[k] =
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === 'object' &&
      !Array.isArray(prev)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

function readFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('top level must be an object');
    return parsed as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Builds the configuration once at start: file < env < flags < overrides, validated by the
 * schema (unknown keys refused so a typo is not silently ignored), then deep-frozen.
 */
export function loadConfig(sources: ConfigSources = {}): Readonly<ChariotsConfig> {
  const env = sources.env ?? process.env;
  const file = sources.file ?? env.CHARIOTS_CONFIG;
  let merged: Record<string, unknown> = file ? readFile(file) : {};
  const fromEnv: Record<string, unknown> = {};
  const fromFlags: Record<string, unknown> = {};
  for (const opt of allOptions()) {
    const e = env[opt.env];
    if (e !== undefined && e !== '')
      setPath(fromEnv, opt.path, coerce(opt, e, `environment ${opt.env}`));
    const f = sources.flags?.[opt.key];
    if (f !== undefined) setPath(fromFlags, opt.path, coerce(opt, f, `flag ${opt.flag}`));
  }
  // KAFKA_BROKERS is the conventional name every tool (and our test harness) sets.
  // Only when CHARIOTS_KAFKA_BROKERS is absent: another CHARIOTS_KAFKA_* variable must not hide it.
  if (
    env.KAFKA_BROKERS &&
    (fromEnv.kafka as Record<string, unknown> | undefined)?.brokers === undefined
  ) {
    setPath(
      fromEnv,
      ['kafka', 'brokers'],
      coerce(
        allOptions().find((o) => o.key === 'kafka.brokers')!,
        env.KAFKA_BROKERS,
        'KAFKA_BROKERS',
      ),
    );
  }
  merged = deepMerge(merged, fromEnv);
  merged = deepMerge(merged, fromFlags);
  if (sources.overrides) merged = deepMerge(merged, sources.overrides as Record<string, unknown>);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${issues.join('; ')}`, { issues });
  }
  rejectUnknownKeys(merged, []);
  return deepFreeze(result.data);
}

function rejectUnknownKeys(value: Record<string, unknown>, path: string[]): void {
  const known = new Set(allOptions().map((o) => o.key));
  const prefixes = new Set(
    allOptions().flatMap((o) =>
      o.path.slice(0, -1).map((_, i) => o.path.slice(0, i + 1).join('.')),
    ),
  );
  for (const [k, v] of Object.entries(value)) {
    const key = [...path, k].join('.');
    if (known.has(key)) continue;
    if (prefixes.has(key) && v && typeof v === 'object') {
      rejectUnknownKeys(v as Record<string, unknown>, [...path, k]);
      continue;
    }
    throw new ConfigError(`unknown configuration option "${key}"`, { option: key });
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** The effective topic prefix: explicit, else one per datacenter. */
export function topicPrefix(config: Pick<ChariotsConfig, 'topicPrefix' | 'dcId'>): string {
  return config.topicPrefix || `dc${config.dcId}.`;
}
