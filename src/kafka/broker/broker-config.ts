import { DEFAULT_LOG_CONFIG, type LogConfig } from './log/log-config.js';

/**
 * Broker configuration, under Kafka's own names and units, with Kafka 4.x's defaults
 * (server/.../config/ReplicationConfigs.java, ServerLogConfigs.java, KRaftConfigs.java; see
 * REPLICATION.md §1). Topic-level overrides (min.insync.replicas, retention.ms...) come from
 * the topic's config in the metadata.
 */
export interface BrokerConfig {
  readonly 'replica.lag.time.max.ms': number;
  readonly 'replica.fetch.wait.max.ms': number;
  readonly 'replica.fetch.min.bytes': number;
  readonly 'replica.fetch.max.bytes': number;
  readonly 'replica.fetch.response.max.bytes': number;
  readonly 'replica.fetch.backoff.ms': number;
  readonly 'replica.socket.timeout.ms': number;
  readonly 'replica.high.watermark.checkpoint.interval.ms': number;
  readonly 'log.flush.offset.checkpoint.interval.ms': number;
  readonly 'log.retention.check.interval.ms': number;
  readonly 'broker.heartbeat.interval.ms': number;
  readonly 'request.timeout.ms': number;
  readonly 'log.segment.bytes': number;
  readonly 'log.roll.ms': number;
  readonly 'log.retention.ms': number;
  readonly 'log.retention.bytes': number;
  readonly 'log.flush.interval.messages': number;
  readonly 'message.max.bytes': number;
  readonly 'min.insync.replicas': number;
  readonly 'unclean.leader.election.enable': boolean;
  // The group coordinator (GroupCoordinatorConfig.java).
  readonly 'group.initial.rebalance.delay.ms': number;
  readonly 'group.min.session.timeout.ms': number;
  readonly 'group.max.session.timeout.ms': number;
  readonly 'group.max.size': number;
  readonly 'offsets.topic.num.partitions': number;
  readonly 'offsets.topic.replication.factor': number;
  readonly 'offsets.commit.timeout.ms': number;
  readonly 'offsets.retention.minutes': number;
  readonly 'offsets.retention.check.interval.ms': number;
  readonly 'offset.metadata.max.bytes': number;
}

export const DEFAULT_BROKER_CONFIG: BrokerConfig = Object.freeze({
  'replica.lag.time.max.ms': 30_000,
  'replica.fetch.wait.max.ms': 500,
  'replica.fetch.min.bytes': 1,
  'replica.fetch.max.bytes': 1_048_576,
  'replica.fetch.response.max.bytes': 10_485_760,
  'replica.fetch.backoff.ms': 1_000,
  'replica.socket.timeout.ms': 30_000,
  'replica.high.watermark.checkpoint.interval.ms': 5_000,
  'log.flush.offset.checkpoint.interval.ms': 60_000,
  'log.retention.check.interval.ms': 300_000,
  'broker.heartbeat.interval.ms': 2_000,
  'request.timeout.ms': 30_000,
  'log.segment.bytes': DEFAULT_LOG_CONFIG.segmentBytes,
  'log.roll.ms': DEFAULT_LOG_CONFIG.segmentMs,
  'log.retention.ms': DEFAULT_LOG_CONFIG.retentionMs,
  'log.retention.bytes': DEFAULT_LOG_CONFIG.retentionBytes,
  'log.flush.interval.messages': DEFAULT_LOG_CONFIG.flushMessages,
  'message.max.bytes': DEFAULT_LOG_CONFIG.maxMessageBytes,
  'min.insync.replicas': DEFAULT_LOG_CONFIG.minInsyncReplicas,
  'unclean.leader.election.enable': DEFAULT_LOG_CONFIG.uncleanLeaderElectionEnable,
  'group.initial.rebalance.delay.ms': 3_000,
  'group.min.session.timeout.ms': 6_000,
  'group.max.session.timeout.ms': 1_800_000,
  'group.max.size': 2_147_483_647,
  'offsets.topic.num.partitions': 50,
  'offsets.topic.replication.factor': 3,
  'offsets.commit.timeout.ms': 5_000,
  'offsets.retention.minutes': 10_080,
  'offsets.retention.check.interval.ms': 600_000,
  'offset.metadata.max.bytes': 4_096,
});

/** Topic config keys (TopicConfig.java) and the broker defaults they override. */
export function logConfigFor(broker: BrokerConfig, topic: Readonly<Record<string, string | number | boolean>>): LogConfig {
  const num = (key: string, fallback: number) => (topic[key] === undefined ? fallback : Number(topic[key]));
  const bool = (key: string, fallback: boolean) => (topic[key] === undefined ? fallback : topic[key] === true || topic[key] === 'true');
  return {
    segmentBytes: num('segment.bytes', broker['log.segment.bytes']),
    segmentMs: num('segment.ms', broker['log.roll.ms']),
    retentionMs: num('retention.ms', broker['log.retention.ms']),
    retentionBytes: num('retention.bytes', broker['log.retention.bytes']),
    flushMessages: num('flush.messages', broker['log.flush.interval.messages']),
    maxMessageBytes: num('max.message.bytes', broker['message.max.bytes']),
    minInsyncReplicas: num('min.insync.replicas', broker['min.insync.replicas']),
    uncleanLeaderElectionEnable: bool('unclean.leader.election.enable', broker['unclean.leader.election.enable']),
  };
}
