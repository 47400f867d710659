/**
 * Our own message shapes, so that nothing outside src/kafka/ depends on kafkajs types.
 */
export interface OutMessage {
  topic: string;
  /** Explicit partition; absent = chosen by key (murmur2, as the Java client does). */
  partition?: number;
  key?: string | Buffer | null;
  /** null = tombstone (compacted topics). */
  value: string | Buffer | null;
  headers?: Record<string, string>;
}

export interface InMessage {
  topic: string;
  partition: number;
  /** Kafka offsets are int64: kept as decimal strings. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers: Record<string, string>;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface InBatch extends TopicPartition {
  messages: InMessage[];
  /** The high watermark when fetched: lag = highWatermark - last offset - 1. */
  highWatermark: string;
}
