/** The only door to Kafka: everything outside src/kafka/ imports from here, never kafkajs. */
export { createKafkaClient, type KafkaClient } from './client';
export { TRANSACTIONAL_RETRY } from './retry';
export { BatchingProducer, type BatchingProducerOptions } from './producer';
export {
  TransactionalStage,
  type TransactionalStageOptions,
  type TxContext,
} from './transactional';
export {
  followTopic,
  readToEnd,
  type Follower,
  type FollowOptions,
  type StartPosition,
} from './reader';
export {
  applyTopics,
  BrokerProbe,
  missingTopics,
  partitionCount,
  type TopicApplyResult,
} from './admin';
export {
  loadTopicDeclarations,
  topicNames,
  TopicMismatchError,
  DEFAULT_TOPICS_DIR,
  type TopicDeclaration,
  type TopicRole,
} from './topics';
export { partitionOffsets, readTail } from './tail';
export { awaitStable } from './stable';
export { startAtLeastOnce, type AtLeastOnceOptions } from './consumer';
export type { InBatch, InMessage, OutMessage, TopicPartition } from './types';
export { TransactionalProducer, type TransactionalProducerOptions } from './transactional-producer';
export {
  GroupInspector,
  HeartbeatView,
  startHeartbeat,
  type GroupState,
  type GroupQuery,
  type Heartbeat,
  type HeartbeatEntry,
  type HeartbeatValue,
} from './groups';
