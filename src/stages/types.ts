import type { ChariotsConfig } from '../config/schema';
import type { StoreReader } from '../flstore/types';
import type { Health } from '../health';
import type { KafkaClient, TopicRole } from '../kafka';
import type { Logger } from '../logger';
import type { StageName } from '../stage-names';

// Known below the stages too (the admin API, the CLI): defined in src/stage-names.ts.
export { STAGE_NAMES, type StageHandle, type StageName } from '../stage-names';

/** What every stage gets from the process that runs it. */
export interface StageContext {
  config: Readonly<ChariotsConfig>;
  kafka: KafkaClient;
  topics: Readonly<Record<TopicRole, string>>;
  health: Health;
  logger: Logger;
  /** What stages of ONE process share: which stages run here, and the maintainer's store. */
  shared?: SharedServices;
}

export interface SharedServices {
  stages?: readonly StageName[];
  /** Set by an in-process maintainer; the batcher then serves the read API from it. */
  flstore?: StoreReader;
  /** This process's admin view (set once it listens); the dashboard proxies it. */
  adminUrl?: string;
}
