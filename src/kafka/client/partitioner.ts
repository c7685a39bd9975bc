/**
 * How a producer picks a record's partition, as KafkaProducer.partition and
 * RecordAccumulator.append do it together (apache/kafka clients/src/main/java/org/apache/kafka/
 * clients/producer/KafkaProducer.java and producer/internals/RecordAccumulator.java):
 *   1. an explicit partition wins;
 *   2. else a custom partitioner, when one is set, decides for every record;
 *   3. else a keyed record goes to `toPositive(murmur2(keyBytes)) % numPartitions`, counting all
 *      of the topic's partitions, unless `partitioner.ignore.keys` is true;
 *   4. else the record has UNKNOWN_PARTITION and the topic's BuiltInPartitioner (uniform sticky,
 *      KIP-794) chooses when the record is appended.
 */
import {
  BuiltInPartitioner,
  collectQueueSizes,
  type NodeLatencyStats,
  type PartitionerCluster,
  type PartitionerRandom,
  type PartitionQueue,
} from './built-in-partitioner.js';
import { partitionForKey } from './murmur2.js';

/** RecordMetadata.UNKNOWN_PARTITION: the built-in partitioner decides at append time. */
export const UNKNOWN_PARTITION = -1;

/** ProducerConfig's defaults for the partitioning settings. */
export const DEFAULT_BATCH_SIZE = 16384;

export type RecordKey = string | Uint8Array | null;
export type RecordValue = string | Uint8Array | null;

/**
 * A custom partitioner (Kafka's `partitioner.class`), given through the library API. It decides
 * for every record without an explicit partition, keyed or not, and must return an integer in
 * [0, numPartitions).
 */
export type CustomPartitioner = (topic: string, key: RecordKey, value: RecordValue, numPartitions: number) => number;

/** The parts of a ProducerRecord that partitioning reads. */
export interface RecordToPartition {
  readonly topic: string;
  readonly partition?: number | null;
  readonly key?: RecordKey;
  readonly value?: RecordValue;
}

/** The producer configs that partitioning reads, under their Kafka names. */
export interface PartitionerConfig {
  /** Default 16384. 0 disables batching, which the partitioner treats as 1 (KafkaProducer). */
  readonly 'batch.size'?: number;
  /** Default false. True sends keyed records through the sticky partitioner too. */
  readonly 'partitioner.ignore.keys'?: boolean;
  /** Default true. No effect with a custom partitioner. */
  readonly 'partitioner.adaptive.partitioning.enable'?: boolean;
  /** Default 0 (off). No effect with a custom partitioner or without adaptive partitioning. */
  readonly 'partitioner.availability.timeout.ms'?: number;
}

export interface ProducerPartitionerOptions {
  /** The random source of every topic's built-in partitioner (one stream per producer). */
  readonly random: PartitionerRandom;
  readonly partitioner?: CustomPartitioner;
}

/** A producer's partitioning: the KafkaProducer.partition rules and one BuiltInPartitioner per topic. */
export class ProducerPartitioner {
  readonly stickyBatchSize: number;
  readonly ignoreKeys: boolean;
  readonly enableAdaptivePartitioning: boolean;
  readonly partitionAvailabilityTimeoutMs: number;
  private readonly custom: CustomPartitioner | null;
  private readonly random: PartitionerRandom;
  private readonly builtIns = new Map<string, BuiltInPartitioner>();

  constructor(config: PartitionerConfig, options: ProducerPartitionerOptions) {
    const batchSize = intConfig(config, 'batch.size', DEFAULT_BATCH_SIZE);
    // KafkaProducer: "batch.size may be set to 0 to explicitly disable batching which in practice
    // actually means using a batch size of 1."
    this.stickyBatchSize = Math.max(1, batchSize);
    this.ignoreKeys = boolConfig(config, 'partitioner.ignore.keys', false);
    if (options.partitioner !== undefined && typeof options.partitioner !== 'function') {
      throw new TypeError(`ProducerPartitioner: partitioner must be a function (topic, key, value, numPartitions) => number, got ${typeof options.partitioner}`);
    }
    this.custom = options.partitioner ?? null;
    // KafkaProducer: enableAdaptivePartitioning = partitioner == null && the config.
    this.enableAdaptivePartitioning = this.custom === null && boolConfig(config, 'partitioner.adaptive.partitioning.enable', true);
    this.partitionAvailabilityTimeoutMs = intConfig(config, 'partitioner.availability.timeout.ms', 0);
    this.random = options.random;
  }

  /**
   * KafkaProducer.partition: the record's partition, or UNKNOWN_PARTITION when the built-in sticky
   * partitioner is to choose at append time (see `choosePartition`).
   */
  partition(record: RecordToPartition, cluster: PartitionerCluster): number {
    const numPartitions = this.numPartitions(record.topic, cluster);
    const explicit = record.partition;
    if (explicit !== undefined && explicit !== null) {
      if (!Number.isInteger(explicit) || explicit < 0) {
        // ProducerRecord's constructor.
        throw new RangeError(`Invalid partition: ${String(explicit)}. Partition number should always be non-negative or null.`);
      }
      if (explicit >= numPartitions) {
        // Kafka blocks in waitOnMetadata for max.block.ms, then throws a TimeoutException.
        throw new RangeError(`Partition ${explicit} of topic ${record.topic} with partition count ${numPartitions} is not present in metadata`);
      }
      return explicit;
    }
    const key = record.key ?? null;
    if (this.custom !== null) return this.customPartition(record.topic, key, record.value ?? null, numPartitions);
    if (key !== null && !this.ignoreKeys) return partitionForKey(key, numPartitions);
    return UNKNOWN_PARTITION;
  }

  /**
   * The partition a record of `appendedBytes` goes to, counting the bytes against the sticky
   * partition when the built-in partitioner chose it (RecordAccumulator.append). `enableSwitch`
   * is false when the partition's queue holds an incomplete batch.
   */
  choosePartition(record: RecordToPartition, cluster: PartitionerCluster, appendedBytes: number, enableSwitch = true): number {
    const partition = this.partition(record, cluster);
    if (partition !== UNKNOWN_PARTITION) return partition;
    const builtIn = this.builtInPartitioner(record.topic);
    const info = builtIn.peekCurrentPartitionInfo(cluster);
    builtIn.updatePartitionInfo(info, appendedBytes, cluster, enableSwitch);
    return info.partition;
  }

  /** The topic's built-in partitioner, created on first use (RecordAccumulator.topicInfoMap). */
  builtInPartitioner(topic: string): BuiltInPartitioner {
    let builtIn = this.builtIns.get(topic);
    if (builtIn === undefined) {
      builtIn = new BuiltInPartitioner(topic, this.stickyBatchSize, this.random);
      this.builtIns.set(topic, builtIn);
    }
    return builtIn;
  }

  /** Feeds the topic's built-in partitioner the queue sizes of RecordAccumulator.ready. */
  updatePartitionLoadStats(
    topic: string,
    cluster: PartitionerCluster,
    queues: readonly PartitionQueue[],
    nodeLatencyStats: ReadonlyMap<number, NodeLatencyStats>,
  ): void {
    const { queueSizes, partitionIds, length } = collectQueueSizes({
      enableAdaptivePartitioning: this.enableAdaptivePartitioning,
      partitionAvailabilityTimeoutMs: this.partitionAvailabilityTimeoutMs,
      numPartitions: cluster.partitionsForTopic(topic).length,
      queues,
      nodeLatencyStats,
    });
    this.builtInPartitioner(topic).updatePartitionLoadStats(queueSizes, partitionIds, length);
  }

  private customPartition(topic: string, key: RecordKey, value: RecordValue, numPartitions: number): number {
    const p = this.custom!(topic, key, value, numPartitions);
    if (typeof p !== 'number' || !Number.isInteger(p)) {
      throw new TypeError(`The partitioner generated an invalid partition number: ${String(p)}. Partition number should be an integer.`);
    }
    if (p < 0) {
      // KafkaProducer.partition's check and message.
      throw new RangeError(`The partitioner generated an invalid partition number: ${p}. Partition number should always be non-negative.`);
    }
    if (p >= numPartitions) {
      throw new RangeError(`The partitioner generated an invalid partition number: ${p}. Topic ${topic} has ${numPartitions} partitions.`);
    }
    return p;
  }

  private numPartitions(topic: string, cluster: PartitionerCluster): number {
    if (typeof topic !== 'string' || topic.length === 0) {
      throw new TypeError(`record.topic must be a non-empty string, got ${String(topic)}`);
    }
    const n = cluster.partitionsForTopic(topic).length;
    if (n === 0) {
      // Kafka would block in waitOnMetadata until the topic appears or max.block.ms passes.
      throw new Error(`Topic ${topic} has no partitions in the cluster metadata`);
    }
    return n;
  }
}

function intConfig(config: PartitionerConfig, name: 'batch.size' | 'partitioner.availability.timeout.ms', fallback: number): number {
  const value: unknown = config[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    // ConfigDef's Range.atLeast(0) message.
    throw new RangeError(`Invalid value ${String(value)} for configuration ${name}: Value must be at least 0`);
  }
  return value;
}

function boolConfig(
  config: PartitionerConfig,
  name: 'partitioner.ignore.keys' | 'partitioner.adaptive.partitioning.enable',
  fallback: boolean,
): boolean {
  const value: unknown = config[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new TypeError(`Invalid value ${String(value)} for configuration ${name}: Expected value to be either true or false`);
  }
  return value;
}
