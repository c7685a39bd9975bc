/** The producer's public surface, for src/index.ts and the scenario layer. */
export { KafkaProducer, type KafkaProducerOptions } from './kafka-producer.js';
export { SendHandle, type ProducerRecord, type SendStatus, type FailureOutcome } from './send-handle.js';
export { ConfigException, DEFAULT_PRODUCER_CONFIG, parseProducerConfig, type ProducerConfig, type ProducerConfigInput, type ProducerConfigKey } from './producer-config.js';
export { ProducerWorkload, ZipfDistribution, type WorkloadSpec, type RateSpec, type KeySpec, type ValueSizeSpec } from './workload.js';
export type { CustomPartitioner } from '../partitioner.js';
