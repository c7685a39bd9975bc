/** The consumer's public surface, for src/index.ts and the scenario layer. */
export { KafkaConsumer, COMMIT_MODES, type KafkaConsumerOptions, type ConsumerAppOptions, type CommitMode } from './kafka-consumer.js';
export { ConfigException, DEFAULT_CONSUMER_CONFIG, ASSIGNOR_CLASS_NAMES, parseConsumerConfig, rebalanceProtocol, type ConsumerConfig, type ConsumerConfigInput, type ConsumerConfigKey, type AutoOffsetReset, type RebalanceProtocol } from './consumer-config.js';
export type { ConsumerRebalanceListener, Generation, MemberState, CommitKind, OffsetToCommit } from './consumer-coordinator.js';
export type { ConsumerRecord } from './fetcher.js';
