import type { z } from 'zod';
import { configSchema } from './schema';

/** One leaf option of the schema, with the three names it answers to. */
export interface OptionInfo {
  path: string[];
  key: string;
  env: string;
  flag: string;
  kind: 'number' | 'string' | 'boolean' | 'enum' | 'array';
  choices?: string[];
  defaultValue: unknown;
  description: string;
}

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
const kebab = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

type AnySchema = z.ZodType & { def: Record<string, unknown>; description?: string };

function leaves(schema: AnySchema, path: string[], out: OptionInfo[]): void {
  const def = schema.def as {
    type: string;
    innerType?: AnySchema;
    shape?: Record<string, AnySchema>;
  };
  if (def.type === 'prefault' && def.innerType) return leaves(def.innerType, path, out);
  if (def.type === 'object') {
    const shape = (schema as unknown as { shape: Record<string, AnySchema> }).shape;
    for (const [k, v] of Object.entries(shape)) leaves(v, [...path, k], out);
    return;
  }
  const defaultValue = (schema.def as { defaultValue?: unknown }).defaultValue;
  const inner = (def.type === 'default' ? def.innerType : schema) as AnySchema;
  const innerType = (inner.def as { type: string }).type;
  const kind = innerType === 'array' ? 'array' : (innerType as OptionInfo['kind']);
  const choices =
    innerType === 'enum'
      ? Object.values((inner.def as unknown as { entries: Record<string, string> }).entries)
      : undefined;
  out.push({
    path,
    key: path.join('.'),
    env: `CHARIOTS_${path.map(snake).join('_')}`,
    flag: `--${path.map(kebab).join('-')}`,
    kind,
    choices,
    defaultValue,
    description: schema.description ?? '',
  });
}

let cached: OptionInfo[] | undefined;
export function allOptions(): OptionInfo[] {
  if (!cached) {
    cached = [];
    leaves(configSchema as unknown as AnySchema, [], cached);
  }
  return cached;
}
