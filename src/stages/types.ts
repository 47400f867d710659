import type { ChariotsConfig } from '../config/schema';
import type { Health } from '../health';
import type { KafkaClient, TopicRole } from '../kafka';
import type { Logger } from '../logger';

/** What every stage gets from the process that runs it. */
export interface StageContext {
  config: Readonly<ChariotsConfig>;
  kafka: KafkaClient;
  topics: Readonly<Record<TopicRole, string>>;
  health: Health;
  logger: Logger;
}

export interface StageHandle {
  /** Drains in-flight work, commits, disconnects. Idempotent. */
  close(): Promise<void>;
}

export type StageName = 'batcher' | 'filter' | 'queue' | 'sequencer';
export const STAGE_NAMES: readonly StageName[] = ['batcher', 'filter', 'queue', 'sequencer'];
