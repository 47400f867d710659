/**
 * The pipeline's stages by name, and what a running one hands back: known below the stages
 * (the admin API lists them, heartbeats close them) as well as above (the CLI, the runtime),
 * so they live here rather than in src/stages/.
 */
export type StageName = 'batcher' | 'filter' | 'queue' | 'sequencer' | 'maintainer' | 'sender';

export const STAGE_NAMES: readonly StageName[] = [
  'batcher',
  'filter',
  'queue',
  'sequencer',
  'maintainer',
  'sender',
];

export interface StageHandle {
  /** Drains in-flight work, commits, disconnects. Idempotent. */
  close(): Promise<void>;
}
