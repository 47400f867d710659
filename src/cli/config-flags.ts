import type { Command } from 'commander';
import { allOptions } from '../config/paths';
import { loadConfig } from '../config/load';
import type { ChariotsConfig } from '../config/schema';
import type { DeepPartial } from '../config/load';

/** Every config option becomes a flag (`http.port` → `--http-port <value>`), plus `--config <file>`. */
export function addConfigFlags(cmd: Command): Command {
  cmd.option('--config <file>', 'JSON config file (also CHARIOTS_CONFIG)');
  for (const o of allOptions()) {
    const shown =
      o.kind === 'array' ? (o.defaultValue as unknown[]).join(',') : String(o.defaultValue);
    cmd.option(
      `${o.flag} <value>`,
      `${o.description} [${o.env}; default: ${shown === '' ? '""' : shown}]`,
    );
  }
  return cmd;
}

const camel = (flag: string) =>
  flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export function configFromFlags(
  opts: Record<string, unknown>,
  overrides?: DeepPartial<ChariotsConfig>,
): Readonly<ChariotsConfig> {
  const flags: Record<string, string | undefined> = {};
  for (const o of allOptions()) {
    const v = opts[camel(o.flag)];
    if (typeof v === 'string') flags[o.key] = v;
  }
  return loadConfig({
    file: typeof opts.config === 'string' ? opts.config : undefined,
    flags,
    overrides,
  });
}
