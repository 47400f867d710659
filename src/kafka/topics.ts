import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ChariotsError, ConfigError } from '../errors';

/** A topic as declared in topics/*.json; `name` is prefixed per datacenter when applied. */
const declarationSchema = z.object({
  name: z.string().regex(/^[a-zA-Z0-9._-]+$/),
  description: z.string().default(''),
  partitions: z.number().int().min(1),
  replicationFactor: z.number().int().min(1),
  configs: z.record(z.string(), z.string()).default({}),
});
export type TopicDeclaration = z.infer<typeof declarationSchema>;

/** The topic roles every stage refers to; their names come from the declarations. */
export type TopicRole =
  'ingest' | 'filtered' | 'dedup' | 'deferred' | 'released' | 'log' | 'logkeys' | 'deadletter';

export const DEFAULT_TOPICS_DIR = resolve(__dirname, '..', '..', 'topics');

export function loadTopicDeclarations(dir = DEFAULT_TOPICS_DIR): TopicDeclaration[] {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch (e) {
    throw new ConfigError(`cannot read topic declarations in ${dir}: ${(e as Error).message}`);
  }
  return files.map((f) => {
    const path = join(dir, f);
    const parsed = declarationSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (!parsed.success) {
      throw new ConfigError(
        `bad topic declaration ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    return parsed.data;
  });
}

/** Full topic names for one datacenter prefix. */
export function topicNames(prefix: string): Record<TopicRole, string> {
  const roles: TopicRole[] = [
    'ingest',
    'filtered',
    'dedup',
    'deferred',
    'released',
    'log',
    'logkeys',
    'deadletter',
  ];
  return Object.fromEntries(roles.map((r) => [r, `${prefix}${r}`])) as Record<TopicRole, string>;
}

export class TopicMismatchError extends ChariotsError {
  constructor(topic: string, problems: string[]) {
    super(
      'CHARIOTS_ERR_TOPIC_MISMATCH',
      `topic ${topic} does not match its declaration: ${problems.join('; ')}`,
      {
        details: { topic, problems },
      },
    );
  }
}
