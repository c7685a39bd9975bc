/**
 * Batches records per partition until the sender takes them (apache/kafka clients/.../producer/
 * internals/RecordAccumulator.java, with BufferPool.java's memory accounting).
 *
 * - Each partition has a deque of batches; records go into the last one until it is full
 *   (`batch.size`), then a new batch is opened. A partition's first batch is ready to send when
 *   it is full, when a second batch waits behind it, once it has lingered `linger.ms`, or at once
 *   while a send is blocked for memory.
 * - Every new batch takes max(batch.size, the record's size) bytes of `buffer.memory` and gives
 *   them back when it completes. When memory is short the send waits (KafkaProducer blocks up to
 *   `max.block.ms`); the producer retries the append as batches complete.
 * - A retried batch goes back to the front of its deque (in sequence order for an idempotent
 *   producer) and waits out its backoff (`retry.backoff.ms`, doubling up to `retry.backoff.max.ms`
 *   with ±20% jitter), unless the partition's leader changed since the attempt (KIP-951).
 * - A batch that has waited `delivery.timeout.ms` since it was created is expired.
 *
 * Single-threaded, so Kafka's locks and the append retry loop around them disappear.
 */
import { invariant } from '../../../engine/errors.js';
import type { KafkaRecord } from '../../protocol/records.js';
import { tpKey } from '../../protocol/topic-partition.js';
import type { NodeLatencyStats, PartitionQueue, StickyPartitionInfo } from '../built-in-partitioner.js';
import { UNKNOWN_PARTITION, type ProducerPartitioner } from '../partitioner.js';
import { ProducerBatch, singleRecordBatchSizeBytes } from './producer-batch.js';
import type { ProducerMetadata } from './producer-metadata.js';
import type { SendHandle } from './send-handle.js';
import type { TransactionManager } from './transaction-manager.js';

export interface AccumulatorConfig {
  readonly batchSizeBytes: number;
  readonly lingerMs: number;
  readonly deliveryTimeoutMs: number;
  readonly bufferMemoryBytes: number;
  /** The backoff before retry number `attempts` (0-based), jitter included. */
  readonly retryBackoffMs: (attempts: number) => number;
  readonly partitionAvailabilityTimeoutMs: number;
}

export type AppendResult =
  | { readonly kind: 'appended'; readonly batch: ProducerBatch; readonly batchIsFull: boolean; readonly newBatchCreated: boolean }
  /** Not enough free memory for a new batch: the send must wait (BufferPool.allocate blocks). */
  | { readonly kind: 'needs-memory'; readonly sizeBytes: number };

export interface ReadyCheckResult {
  readonly readyNodes: Set<number>;
  /** Delay until a batch not yet sendable may become so; Infinity when none waits. */
  readonly nextReadyCheckDelayMs: number;
  readonly unknownLeaderTopics: Set<string>;
}

/** BufferPool, reduced to what the model needs: a byte count and its limit. */
export class BufferPool {
  private availableBytes: number;

  constructor(readonly totalMemoryBytes: number) {
    this.availableBytes = totalMemoryBytes;
  }

  get availableMemoryBytes(): number {
    return this.availableBytes;
  }

  tryAllocate(sizeBytes: number): boolean {
    if (sizeBytes > this.availableBytes) return false;
    this.availableBytes -= sizeBytes;
    return true;
  }

  deallocate(sizeBytes: number): void {
    this.availableBytes += sizeBytes;
    invariant(this.availableBytes <= this.totalMemoryBytes, `buffer pool holds ${this.availableBytes} bytes, more than its ${this.totalMemoryBytes}`);
  }
}

export class RecordAccumulator {
  readonly free: BufferPool;
  /** topic → partition → deque (oldest first), in creation order as Kafka's CopyOnWriteMap keeps them. */
  private readonly batches = new Map<string, Map<number, ProducerBatch[]>>();
  /** Batches not yet completed, sent or not (RecordAccumulator.incomplete). */
  private readonly incomplete = new Set<ProducerBatch>();
  /** Partitions with a batch in flight when max.in.flight.requests.per.connection is 1. */
  private readonly muted = new Set<string>();
  private readonly nodesDrainIndex = new Map<number, number>();
  private readonly nodeStats = new Map<number, { readyTimeMs: number; drainTimeMs: number }>();
  /** Sends waiting for memory (BufferPool.waiters): while any waits, every batch is sendable. */
  waitersForMemory = 0;
  private flushesInProgress = 0;

  constructor(
    private readonly config: AccumulatorConfig,
    private readonly partitioner: ProducerPartitioner,
    private readonly transactionManager: TransactionManager | null,
  ) {
    this.free = new BufferPool(config.bufferMemoryBytes);
  }

  /**
   * RecordAccumulator.append. `partition` is the record's partition, or UNKNOWN_PARTITION for the
   * built-in sticky partitioner to choose, counting the appended bytes against the sticky
   * partition as Kafka does.
   */
  append(topic: string, partition: number, record: KafkaRecord, handle: SendHandle, metadata: ProducerMetadata, nowMs: number): AppendResult {
    const builtIn = partition === UNKNOWN_PARTITION ? this.partitioner.builtInPartitioner(topic) : null;
    const partitionInfo = builtIn === null ? null : builtIn.peekCurrentPartitionInfo(metadata);
    const effectivePartition = partitionInfo === null ? partition : partitionInfo.partition;
    const deque = this.getOrCreateDeque(topic, effectivePartition);
    const last = deque[deque.length - 1];
    const sizeBefore = last?.estimatedSizeBytes ?? 0;
    if (last !== undefined && last.tryAppend(record, handle, nowMs)) {
      this.updatePartitionInfo(topic, partitionInfo, last.estimatedSizeBytes - sizeBefore, deque, metadata);
      return { kind: 'appended', batch: last, batchIsFull: deque.length > 1 || last.isFull(), newBatchCreated: false };
    }
    // A new batch: max(batch.size, the record's own size) from the buffer pool.
    const sizeBytes = Math.max(this.config.batchSizeBytes, singleRecordBatchSizeBytes(record.key, record.value));
    if (!this.free.tryAllocate(sizeBytes)) return { kind: 'needs-memory', sizeBytes };
    if (last !== undefined) last.closed = true;
    const batch = new ProducerBatch(topic, effectivePartition, Math.max(1, this.config.batchSizeBytes), sizeBytes, nowMs);
    const appended = batch.tryAppend(record, handle, nowMs);
    invariant(appended, `a new batch for ${batch.key} refused its first record`);
    deque.push(batch);
    this.incomplete.add(batch);
    this.updatePartitionInfo(topic, partitionInfo, batch.estimatedSizeBytes, deque, metadata);
    return { kind: 'appended', batch, batchIsFull: deque.length > 1 || batch.isFull(), newBatchCreated: true };
  }

  /**
   * RecordAccumulator.ready: the leaders of partitions with a sendable batch, the earliest time
   * another may become sendable, and the topics whose partitions have no known leader. Also feeds
   * the adaptive partitioner its queue sizes, as partitionReady does.
   */
  ready(metadata: ProducerMetadata, nowMs: number): ReadyCheckResult {
    const readyNodes = new Set<number>();
    const unknownLeaderTopics = new Set<string>();
    let nextReadyCheckDelayMs = Infinity;
    const exhausted = this.waitersForMemory > 0;
    for (const [topic, partitions] of this.batches) {
      const queues: PartitionQueue[] = [];
      for (const [partition, deque] of partitions) {
        const leader = metadata.leaderFor(topic, partition);
        queues.push({ partition, leader, queueSize: deque.length });
        const batch = deque[0];
        if (batch === undefined) continue;
        batch.maybeUpdateLeaderEpoch(metadata.leaderEpochFor(topic, partition));
        if (leader === null) {
          unknownLeaderTopics.add(topic);
          continue;
        }
        if (readyNodes.has(leader) || this.muted.has(batch.key)) continue;
        const waitedTimeMs = batch.waitedTimeMs(nowMs);
        const backingOff = this.shouldBackoff(batch, waitedTimeMs);
        const timeToWaitMs = backingOff ? batch.retryBackoffMs : this.config.lingerMs;
        const full = deque.length > 1 || batch.isFull();
        const expired = waitedTimeMs >= timeToWaitMs;
        const sendable = full || expired || exhausted || this.flushesInProgress > 0;
        if (sendable && !backingOff) readyNodes.add(leader);
        else nextReadyCheckDelayMs = Math.min(nextReadyCheckDelayMs, Math.max(timeToWaitMs - waitedTimeMs, 0));
      }
      if (this.partitioner.enableAdaptivePartitioning) this.partitioner.updatePartitionLoadStats(topic, metadata, queues, this.nodeLatencyStats());
    }
    return { readyNodes, nextReadyCheckDelayMs, unknownLeaderTopics };
  }

  /** RecordAccumulator.updateNodeLatencyStats (partitioner.availability.timeout.ms). */
  updateNodeLatencyStats(nodeId: number, nowMs: number, canDrain: boolean): void {
    if (this.config.partitionAvailabilityTimeoutMs <= 0) return;
    let stats = this.nodeStats.get(nodeId);
    if (stats === undefined) this.nodeStats.set(nodeId, (stats = { readyTimeMs: nowMs, drainTimeMs: nowMs }));
    if (canDrain) stats.drainTimeMs = nowMs;
    stats.readyTimeMs = nowMs;
  }

  /**
   * RecordAccumulator.drain: for each node, the first batch of each partition it leads, starting
   * where the last drain stopped, up to `maxRequestSizeBytes` per request (one batch always goes).
   */
  drain(metadata: ProducerMetadata, nodes: Iterable<number>, maxRequestSizeBytes: number, nowMs: number): Map<number, ProducerBatch[]> {
    const out = new Map<number, ProducerBatch[]>();
    for (const node of nodes) out.set(node, this.drainBatchesForOneNode(metadata, node, maxRequestSizeBytes, nowMs));
    return out;
  }

  private drainBatchesForOneNode(metadata: ProducerMetadata, node: number, maxSizeBytes: number, nowMs: number): ProducerBatch[] {
    const ready: ProducerBatch[] = [];
    const parts = metadata.partitionsForNode(node);
    if (parts.length === 0) return ready;
    let size = 0;
    let drainIndex = (this.nodesDrainIndex.get(node) ?? 0) % parts.length;
    const start = drainIndex;
    do {
      const part = parts[drainIndex];
      this.nodesDrainIndex.set(node, drainIndex);
      drainIndex = (drainIndex + 1) % parts.length;
      const key = tpKey(part.topic, part.partition);
      if (this.muted.has(key)) continue;
      const deque = this.batches.get(part.topic)?.get(part.partition);
      const first = deque?.[0];
      if (deque === undefined || first === undefined) continue;
      first.maybeUpdateLeaderEpoch(part.leaderEpoch);
      if (this.shouldBackoff(first, first.waitedTimeMs(nowMs))) continue;
      if (size + first.estimatedSizeBytes > maxSizeBytes && ready.length > 0) break;
      if (this.shouldStopDrainBatchesForPartition(first, key)) break;
      deque.shift();
      const tm = this.transactionManager;
      if (tm !== null && !first.hasSequence) {
        // A batch keeps its sequence across retries: giving a retry a new one could duplicate it.
        tm.maybeUpdateProducerIdAndEpoch(key);
        first.setProducerState(tm.producerIdAndEpoch(), tm.sequenceNumber(key));
        tm.incrementSequenceNumber(key, first.recordCount);
        tm.addInFlightBatch(first);
      }
      first.drained(nowMs);
      size += first.estimatedSizeBytes;
      ready.push(first);
    } while (start !== drainIndex);
    return ready;
  }

  /** RecordAccumulator.shouldStopDrainBatchesForPartition: the idempotent producer's ordering rules. */
  private shouldStopDrainBatchesForPartition(first: ProducerBatch, key: string): boolean {
    const tm = this.transactionManager;
    if (tm === null) return false;
    // No producer id yet: nothing can be sent until InitProducerId answers.
    if (!tm.hasProducerId()) return true;
    if (!first.hasSequence) {
      // A new epoch's sequence 0 must not overtake batches still in flight with the old one.
      if (tm.hasInflightBatches(key) && tm.hasStaleProducerIdAndEpoch(key)) return true;
      // Earlier sequences are in doubt (an expired batch that had been sent).
      if (tm.hasUnresolvedSequence(key)) return true;
    }
    // A retried batch goes only when it is the first in flight: retries go one at a time, in order.
    const firstInFlightSequence = tm.firstInFlightSequence(key);
    return firstInFlightSequence !== -1 && first.hasSequence && first.baseSequence !== firstInFlightSequence;
  }

  /** RecordAccumulator.shouldBackoff. */
  private shouldBackoff(batch: ProducerBatch, waitedTimeMs: number): boolean {
    const shouldWaitMore = batch.attempts > 0 && waitedTimeMs < batch.retryBackoffMs;
    return !batch.hasLeaderChangedForTheOngoingRetry() && shouldWaitMore;
  }

  /**
   * RecordAccumulator.reenqueue: back to the front of its deque, in sequence order for an
   * idempotent producer (insertInSequenceOrder), with its next backoff drawn.
   */
  reenqueue(batch: ProducerBatch, nowMs: number): void {
    batch.reenqueued(nowMs, this.config.retryBackoffMs(batch.attempts));
    const deque = this.getOrCreateDeque(batch.topic, batch.partition);
    if (this.transactionManager === null) {
      deque.unshift(batch);
      return;
    }
    invariant(batch.hasSequence, `re-enqueued idempotent batch for ${batch.key} has no sequence`);
    let i = 0;
    while (i < deque.length && deque[i].hasSequence && deque[i].baseSequence < batch.baseSequence) i++;
    deque.splice(i, 0, batch);
  }

  /**
   * RecordAccumulator.expiredBatches: batches still in their deques that reached
   * delivery.timeout.ms, oldest first per partition. Also returns the next expiry time.
   */
  expiredBatches(nowMs: number): { expired: ProducerBatch[]; nextExpiryTimeMs: number } {
    const expired: ProducerBatch[] = [];
    let nextExpiryTimeMs = Infinity;
    for (const partitions of this.batches.values()) {
      for (const deque of partitions.values()) {
        while (deque.length > 0) {
          const batch = deque[0];
          if (!batch.hasReachedDeliveryTimeout(this.config.deliveryTimeoutMs, nowMs)) {
            nextExpiryTimeMs = Math.min(nextExpiryTimeMs, batch.createdMs + this.config.deliveryTimeoutMs);
            break;
          }
          deque.shift();
          batch.closed = true;
          expired.push(batch);
        }
      }
    }
    return { expired, nextExpiryTimeMs };
  }

  /** RecordAccumulator.deallocate: the batch is complete; its memory returns to the pool. */
  deallocate(batch: ProducerBatch): void {
    if (!this.incomplete.delete(batch)) return;
    this.free.deallocate(batch.allocatedBytes);
  }

  mutePartition(key: string): void {
    this.muted.add(key);
  }

  unmutePartition(key: string): void {
    this.muted.delete(key);
  }

  beginFlush(): void {
    this.flushesInProgress++;
  }

  endFlush(): void {
    invariant(this.flushesInProgress > 0, 'endFlush without beginFlush');
    this.flushesInProgress--;
  }

  hasIncomplete(): boolean {
    return this.incomplete.size > 0;
  }

  /** Batches waiting in deques (not in flight), for tests and reports. */
  queuedBatches(): ProducerBatch[] {
    const out: ProducerBatch[] = [];
    for (const partitions of this.batches.values()) for (const deque of partitions.values()) out.push(...deque);
    return out;
  }

  private getOrCreateDeque(topic: string, partition: number): ProducerBatch[] {
    let partitions = this.batches.get(topic);
    if (partitions === undefined) this.batches.set(topic, (partitions = new Map()));
    let deque = partitions.get(partition);
    if (deque === undefined) partitions.set(partition, (deque = []));
    return deque;
  }

  /**
   * BuiltInPartitioner.updatePartitionInfo after an append, with `enableSwitch` as allBatchesFull:
   * the switch waits while the partition's last batch has room.
   */
  private updatePartitionInfo(
    topic: string,
    partitionInfo: StickyPartitionInfo | null,
    appendedBytes: number,
    deque: readonly ProducerBatch[],
    metadata: ProducerMetadata,
  ): void {
    if (partitionInfo === null) return;
    const last = deque[deque.length - 1];
    const enableSwitch = last === undefined || last.isFull();
    this.partitioner.builtInPartitioner(topic).updatePartitionInfo(partitionInfo, appendedBytes, metadata, enableSwitch);
  }

  private nodeLatencyStats(): ReadonlyMap<number, NodeLatencyStats> {
    return this.nodeStats;
  }
}
