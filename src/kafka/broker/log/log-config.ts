/**
 * Per-topic log configuration, with Kafka's names and defaults (storage/.../log/LogConfig.java,
 * ServerLogConfigs.java; see ../REPLICATION.md §1). Times are milliseconds, as in Kafka.
 */
export interface LogConfig {
  /** `segment.bytes` (broker: log.segment.bytes). */
  readonly segmentBytes: number;
  /** `segment.ms` (broker: log.roll.ms). */
  readonly segmentMs: number;
  /** `retention.ms`; -1 means no time limit. */
  readonly retentionMs: number;
  /** `retention.bytes`; -1 means no size limit. */
  readonly retentionBytes: number;
  /** `flush.messages` (broker: log.flush.interval.messages): fsync when this many are unflushed. */
  readonly flushMessages: number;
  /** `max.message.bytes`: the largest batch accepted. */
  readonly maxMessageBytes: number;
  /** `min.insync.replicas`. */
  readonly minInsyncReplicas: number;
  /** `unclean.leader.election.enable` (the controller acts on it). */
  readonly uncleanLeaderElectionEnable: boolean;
}

/** Long.MAX_VALUE, which Kafka uses for "never" (flush.messages, flush.ms). */
export const LONG_MAX = Number.MAX_SAFE_INTEGER;

export const DEFAULT_LOG_CONFIG: LogConfig = Object.freeze({
  segmentBytes: 1_073_741_824,
  segmentMs: 604_800_000,
  retentionMs: 604_800_000,
  retentionBytes: -1,
  flushMessages: LONG_MAX,
  maxMessageBytes: 1_048_588,
  minInsyncReplicas: 1,
  uncleanLeaderElectionEnable: false,
});
