/**
 * Kafka's built-in partitioner for records without a key: the uniform sticky partitioner of KIP-794,
 * with adaptive partitioning.
 *
 * Port of apache/kafka clients/src/main/java/org/apache/kafka/clients/producer/internals/
 * BuiltInPartitioner.java, one object per topic as in Kafka. The queue-size collection that feeds
 * it is RecordAccumulator.partitionReady's (same folder), ported here as `collectQueueSizes`.
 *
 * The workflow, as RecordAccumulator.append drives it:
 *   1. `peekCurrentPartitionInfo` says which partition the record goes to;
 *   2. the record is appended to that partition's batch;
 *   3. `updatePartitionInfo` adds the appended bytes and, once `batch.size` bytes went to the
 *      partition, switches to a new one (drawn uniformly, or weighted by queue sizes).
 * The simulator is single-threaded, so Kafka's AtomicReference/compareAndSet dance disappears;
 * `isPartitionChanged` keeps its meaning (the info object was replaced).
 */
import { invariant } from '../../engine/errors.js';
import { toPositive } from './murmur2.js';

/** What the partitioner reads of a partition: Kafka's PartitionInfo, reduced. */
export interface PartitionInfo {
  readonly topic: string;
  readonly partition: number;
  /** The leader's broker id, or null when the partition has none (PartitionInfo.leader() == null). */
  readonly leader: number | null;
}

/** The two methods of Kafka's Cluster that the partitioner calls. */
export interface PartitionerCluster {
  /** All partitions of the topic, in metadata order; empty when the topic is unknown. */
  partitionsForTopic(topic: string): readonly PartitionInfo[];
  /** The partitions of the topic that have a leader, in metadata order. */
  availablePartitionsForTopic(topic: string): readonly PartitionInfo[];
}

/**
 * A PartitionerCluster over a list of partitions, grouped by topic in the order given, as Kafka's
 * Cluster constructor does; a partition is available when it has a leader.
 */
export function clusterOf(partitions: readonly PartitionInfo[]): PartitionerCluster {
  const byTopic = new Map<string, PartitionInfo[]>();
  for (const p of partitions) {
    const list = byTopic.get(p.topic);
    if (list) list.push(p);
    else byTopic.set(p.topic, [p]);
  }
  const available = new Map<string, PartitionInfo[]>();
  for (const [topic, list] of byTopic) available.set(topic, list.filter((p) => p.leader !== null));
  return {
    partitionsForTopic: (topic) => byTopic.get(topic) ?? [],
    availablePartitionsForTopic: (topic) => available.get(topic) ?? [],
  };
}

/**
 * Where the partitioner's random draws come from. Kafka draws
 * `Utils.toPositive(ThreadLocalRandom.current().nextInt())`, once per partition switch.
 * - `nextInt`: a Java-style `nextInt()`, any 32-bit signed integer; toPositive is applied as in
 *   Kafka. The sequential `mockRandom` of Kafka's tests (0, 1, 2, …) fits here unchanged, since
 *   toPositive leaves non-negative values alone.
 * - `random`: uniform in [0, 1), such as a forked engine stream's `float()`; each draw is mapped to
 *   a uniform 32-bit integer, then toPositive, so it is distributed as Kafka's draw is.
 */
export type PartitionerRandom = { readonly nextInt: () => number } | { readonly random: () => number };

/** The sticky partition and the bytes produced to it (BuiltInPartitioner.StickyPartitionInfo). */
export class StickyPartitionInfo {
  producedBytes = 0;

  constructor(readonly partition: number) {}
}

/** Queue sizes turned into a cumulative frequency table (BuiltInPartitioner.PartitionLoadStats). */
interface PartitionLoadStats {
  readonly cumulativeFrequencyTable: readonly number[];
  readonly partitionIds: readonly number[];
}

const INT32_MAX = 0x7fffffff;
const TWO_POW_32 = 0x1_0000_0000;

export class BuiltInPartitioner {
  private partitionLoadStats: PartitionLoadStats | null = null;
  private stickyPartitionInfo: StickyPartitionInfo | null = null;
  private readonly drawInt: () => number;

  /**
   * @param stickyBatchSize how many bytes to produce to a partition before switching; Kafka passes
   *   `max(1, batch.size)` (KafkaProducer's constructor).
   */
  constructor(
    readonly topic: string,
    readonly stickyBatchSize: number,
    random: PartitionerRandom,
  ) {
    if (typeof topic !== 'string' || topic.length === 0) {
      throw new TypeError(`BuiltInPartitioner: topic must be a non-empty string, got ${String(topic)}`);
    }
    if (!Number.isInteger(stickyBatchSize) || stickyBatchSize < 1 || stickyBatchSize > INT32_MAX) {
      // Kafka: IllegalArgumentException("stickyBatchSize must be >= 1 but got " + stickyBatchSize)
      throw new RangeError(`BuiltInPartitioner: stickyBatchSize must be an integer >= 1 but got ${String(stickyBatchSize)}`);
    }
    this.drawInt = intDraw(random);
  }

  /**
   * The current sticky partition, choosing one if there is none yet. Steps 1 and 3 of the
   * workflow above must use the same object: `updatePartitionInfo` checks it.
   */
  peekCurrentPartitionInfo(cluster: PartitionerCluster): StickyPartitionInfo {
    if (this.stickyPartitionInfo === null) {
      this.stickyPartitionInfo = new StickyPartitionInfo(this.nextPartition(cluster));
    }
    return this.stickyPartitionInfo;
  }

  /** True when `partitionInfo` is no longer the current sticky partition (a switch happened). */
  isPartitionChanged(partitionInfo: StickyPartitionInfo | null): boolean {
    return partitionInfo !== null && this.stickyPartitionInfo !== partitionInfo;
  }

  /**
   * Counts `appendedBytes` against the sticky partition and switches once `stickyBatchSize` bytes
   * went to it. With `enableSwitch` false (RecordAccumulator passes it when the partition's queue
   * has an incomplete batch, to avoid fractional batches under a long linger.ms) the switch waits
   * for the batch, but never beyond twice `stickyBatchSize`.
   * A null `partitionInfo` (the record had a key or an explicit partition) does nothing.
   */
  updatePartitionInfo(
    partitionInfo: StickyPartitionInfo | null,
    appendedBytes: number,
    cluster: PartitionerCluster,
    enableSwitch = true,
  ): void {
    if (partitionInfo === null) return;
    if (!Number.isInteger(appendedBytes) || appendedBytes < 0) {
      throw new RangeError(`updatePartitionInfo: appendedBytes must be a non-negative integer, got ${String(appendedBytes)}`);
    }
    invariant(
      partitionInfo === this.stickyPartitionInfo,
      `updatePartitionInfo: topic ${this.topic}: the partition info was replaced since it was peeked (partition ${partitionInfo.partition})`,
    );
    partitionInfo.producedBytes += appendedBytes;
    const producedBytes = partitionInfo.producedBytes;
    if ((producedBytes >= this.stickyBatchSize && enableSwitch) || producedBytes >= this.stickyBatchSize * 2) {
      this.stickyPartitionInfo = new StickyPartitionInfo(this.nextPartition(cluster));
    }
  }

  /**
   * Chooses the next sticky partition: uniformly among the available partitions (all partitions if
   * none is available) without load stats, else weighted by the cumulative frequency table. Takes
   * exactly one random draw, as Kafka's does, and does not change the current sticky partition.
   */
  nextPartition(cluster: PartitionerCluster): number {
    const random = this.randomPartition();
    const stats = this.partitionLoadStats;
    if (stats === null) {
      const available = cluster.availablePartitionsForTopic(this.topic);
      if (available.length > 0) return available[random % available.length].partition;
      const partitions = cluster.partitionsForTopic(this.topic);
      if (partitions.length === 0) {
        // Kafka divides by zero here (ArithmeticException); the producer waits for metadata first.
        throw new Error(`BuiltInPartitioner: topic ${this.topic} has no partitions in the cluster metadata`);
      }
      // Kafka's own quirk: an index, used as a partition number (partitions are 0..n-1).
      return random % partitions.length;
    }
    const cft = stats.cumulativeFrequencyTable;
    const weightedRandom = random % cft[cft.length - 1];
    // Kafka: Math.abs(Arrays.binarySearch(cft, 0, length, weightedRandom) + 1), the index of the
    // first value strictly greater than weightedRandom. The table is strictly increasing (every
    // frequency is at least 1), so an upper-bound search finds the same index.
    const partitionIndex = upperBound(cft, weightedRandom);
    invariant(partitionIndex < cft.length, `nextPartition: index ${partitionIndex} outside the load stats of ${this.topic}`);
    return stats.partitionIds[partitionIndex];
  }

  /**
   * Builds the cumulative frequency table from the queue sizes (number of batches) of the first
   * `length` partitions; a partition with a shorter queue gets a larger share. `queueSizes` null
   * turns adaptive partitioning off; so do fewer than 2 partitions in the topic, no partition left
   * after exclusions, or all queues equal with none excluded.
   * Kafka builds the table in place in `queueSizes`; this port copies, so the caller's arrays stay.
   */
  updatePartitionLoadStats(queueSizes: readonly number[] | null, partitionIds: readonly number[] | null, length: number): void {
    if (queueSizes === null) {
      this.partitionLoadStats = null;
      return;
    }
    checkLoadStatsInput(queueSizes, partitionIds, length);
    // queueSizes.length is the count of all the topic's partitions with a leader; `length` is what
    // is left after partitioner.availability.timeout.ms exclusions (RecordAccumulator.partitionReady).
    if (length < 1 || queueSizes.length < 2) {
      this.partitionLoadStats = null;
      return;
    }
    let maxSizePlus1 = queueSizes[0];
    let allEqual = true;
    for (let i = 1; i < length; i++) {
      if (queueSizes[i] !== maxSizePlus1) allEqual = false;
      if (queueSizes[i] > maxSizePlus1) maxSizePlus1 = queueSizes[i];
    }
    ++maxSizePlus1;
    if (allEqual && length === queueSizes.length) {
      this.partitionLoadStats = null;
      return;
    }
    // Invert (max + 1 - size, so an empty queue is the most likely) and fold into a running sum:
    // sizes 0 3 1 → frequencies 4 1 3 → table 4 5 8; a draw in [0, 8) then picks the first entry
    // strictly greater than it.
    const cumulativeFrequencyTable = new Array<number>(length);
    cumulativeFrequencyTable[0] = maxSizePlus1 - queueSizes[0];
    for (let i = 1; i < length; i++) {
      cumulativeFrequencyTable[i] = maxSizePlus1 - queueSizes[i] + cumulativeFrequencyTable[i - 1];
    }
    this.partitionLoadStats = { cumulativeFrequencyTable, partitionIds: partitionIds.slice(0, length) };
  }

  /** Kafka's test-only `loadStatsRangeEnd`: the end of the weighted draw's range. */
  loadStatsRangeEnd(): number {
    const stats = this.partitionLoadStats;
    invariant(stats !== null, `loadStatsRangeEnd: topic ${this.topic} has no partition load stats`);
    return stats.cumulativeFrequencyTable[stats.cumulativeFrequencyTable.length - 1];
  }

  /** The load stats in use, or null when partitioning is uniform. For tests and reports. */
  loadStats(): { readonly cumulativeFrequencyTable: readonly number[]; readonly partitionIds: readonly number[] } | null {
    const stats = this.partitionLoadStats;
    return stats === null ? null : { cumulativeFrequencyTable: stats.cumulativeFrequencyTable.slice(), partitionIds: stats.partitionIds.slice() };
  }

  /** BuiltInPartitioner.randomPartition: `Utils.toPositive(nextInt())`. */
  private randomPartition(): number {
    return toPositive(this.drawInt());
  }
}

// ---------------------------------------------------------------- queue sizes (RecordAccumulator)

/** One entry of the accumulator's batches map for a topic. */
export interface PartitionQueue {
  readonly partition: number;
  /** The partition's leader in the current metadata, or null when unknown. */
  readonly leader: number | null;
  /** Batches in the partition's deque; 0 for an empty deque. */
  readonly queueSize: number;
}

/** RecordAccumulator.NodeLatencyStats: when the node last had data ready, and was last drained. */
export interface NodeLatencyStats {
  readonly readyTimeMs: number;
  readonly drainTimeMs: number;
}

export interface CollectQueueSizesInput {
  /** `partitioner.adaptive.partitioning.enable`, false when a custom partitioner is set. */
  readonly enableAdaptivePartitioning: boolean;
  /** `partitioner.availability.timeout.ms`; 0 disables exclusions. */
  readonly partitionAvailabilityTimeoutMs: number;
  /** `cluster.partitionsForTopic(topic).size()`. */
  readonly numPartitions: number;
  /** The accumulator's batches map for the topic, in its iteration order. */
  readonly queues: readonly PartitionQueue[];
  /** Per leader node; a node without stats is never excluded. */
  readonly nodeLatencyStats: ReadonlyMap<number, NodeLatencyStats>;
}

/** The arguments of `updatePartitionLoadStats`. */
export interface QueueSizes {
  readonly queueSizes: number[] | null;
  readonly partitionIds: number[] | null;
  readonly length: number;
}

/**
 * The queue sizes RecordAccumulator.partitionReady collects for adaptive partitioning. None
 * (uniform partitioning) until every partition of the topic has an entry in the batches map.
 * Partitions without a leader get no slot. With `partitionAvailabilityTimeoutMs` > 0, a partition
 * whose leader has had data ready but undrained for longer than the timeout is excluded by giving
 * its slot back (`--queueSizesIndex`), so `length` counts only the partitions kept.
 * Kept as Kafka has it: a partition with an empty deque skips both its size and the exclusion
 * check (Kafka `continue`s early), so it stays eligible and its slot keeps whatever was written
 * there before (0, or the size of an excluded partition that held the slot).
 */
export function collectQueueSizes(input: CollectQueueSizesInput): QueueSizes {
  const { queues, partitionAvailabilityTimeoutMs } = input;
  if (!Number.isInteger(partitionAvailabilityTimeoutMs) || partitionAvailabilityTimeoutMs < 0) {
    throw new RangeError(`collectQueueSizes: partitionAvailabilityTimeoutMs must be a non-negative integer, got ${String(partitionAvailabilityTimeoutMs)}`);
  }
  let queueSizes: number[] | null = null;
  let partitionIds: number[] | null = null;
  if (input.enableAdaptivePartitioning && queues.length >= input.numPartitions) {
    queueSizes = new Array<number>(queues.length).fill(0);
    partitionIds = new Array<number>(queues.length).fill(0);
  }
  let queueSizesIndex = -1;
  for (const q of queues) {
    if (!Number.isInteger(q.queueSize) || q.queueSize < 0) {
      throw new RangeError(`collectQueueSizes: partition ${q.partition} has queueSize ${String(q.queueSize)}; expected a non-negative integer`);
    }
    if (q.leader !== null && queueSizes !== null && partitionIds !== null) {
      ++queueSizesIndex;
      partitionIds[queueSizesIndex] = q.partition;
    }
    if (q.queueSize === 0 || q.leader === null) continue;
    if (queueSizes !== null) queueSizes[queueSizesIndex] = q.queueSize;
    if (partitionAvailabilityTimeoutMs > 0) {
      const stats = input.nodeLatencyStats.get(q.leader);
      if (stats !== undefined && stats.readyTimeMs - stats.drainTimeMs > partitionAvailabilityTimeoutMs) --queueSizesIndex;
    }
  }
  return { queueSizes, partitionIds, length: queueSizesIndex + 1 };
}

// ---------------------------------------------------------------- helpers

function intDraw(random: PartitionerRandom): () => number {
  if (random !== null && typeof random === 'object' && 'nextInt' in random && typeof random.nextInt === 'function') {
    const nextInt = random.nextInt;
    return () => {
      const n = nextInt();
      if (!Number.isInteger(n) || n < -0x80000000 || n > INT32_MAX) {
        throw new RangeError(`BuiltInPartitioner: nextInt() must return a 32-bit signed integer, got ${String(n)}`);
      }
      return n;
    };
  }
  if (random !== null && typeof random === 'object' && 'random' in random && typeof random.random === 'function') {
    const next = random.random;
    return () => {
      const u = next();
      if (typeof u !== 'number' || !(u >= 0 && u < 1)) {
        throw new RangeError(`BuiltInPartitioner: random() must return a number in [0, 1), got ${String(u)}`);
      }
      return Math.floor(u * TWO_POW_32) | 0;
    };
  }
  throw new TypeError('BuiltInPartitioner: random must be { nextInt: () => number } or { random: () => number }');
}

function checkLoadStatsInput(
  queueSizes: readonly number[],
  partitionIds: readonly number[] | null,
  length: number,
): asserts partitionIds is readonly number[] {
  if (partitionIds === null) {
    throw new TypeError('updatePartitionLoadStats: partitionIds must be given with queueSizes');
  }
  if (partitionIds.length !== queueSizes.length) {
    throw new RangeError(`updatePartitionLoadStats: queueSizes has ${queueSizes.length} entries but partitionIds has ${partitionIds.length}`);
  }
  if (!Number.isInteger(length) || length < 0 || length > queueSizes.length) {
    throw new RangeError(`updatePartitionLoadStats: length must be an integer in [0, ${queueSizes.length}], got ${String(length)}`);
  }
  for (let i = 0; i < length; i++) {
    if (!Number.isInteger(queueSizes[i]) || queueSizes[i] < 0) {
      throw new RangeError(`updatePartitionLoadStats: queueSizes[${i}] must be a non-negative integer, got ${String(queueSizes[i])}`);
    }
    if (!Number.isInteger(partitionIds[i]) || partitionIds[i] < 0) {
      throw new RangeError(`updatePartitionLoadStats: partitionIds[${i}] must be a non-negative integer, got ${String(partitionIds[i])}`);
    }
  }
}

/** The index of the first element of the sorted `table` strictly greater than `value`. */
function upperBound(table: readonly number[], value: number): number {
  let lo = 0;
  let hi = table.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (table[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
