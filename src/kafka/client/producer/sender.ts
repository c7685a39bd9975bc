/**
 * The producer's I/O loop (apache/kafka clients/.../producer/internals/Sender.java): each run
 * refreshes metadata when due, gets a producer id for an idempotent producer, drains ready
 * batches into one ProduceRequest per leader (at most max.in.flight.requests.per.connection in
 * flight per broker), expires batches past delivery.timeout.ms, and completes, retries or fails
 * batches as answers arrive. Sans-IO: the producer node calls `runOnce` after every event and
 * wakes it again at the time it returns.
 */
import { errorName, Errors, isRetriable, type ErrorCode } from '../../protocol/errors.js';
import type { Acks, InitProducerIdResponse, MetadataResponse, ProducePartitionResponse, ProduceResponse } from '../../protocol/messages.js';
import { wireSize } from '../../protocol/messages.js';
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID } from '../../protocol/records.js';
import type { NetworkClient } from '../network-client.js';
import type { ProducerBatch } from './producer-batch.js';
import type { ProducerMetadata } from './producer-metadata.js';
import type { RecordAccumulator } from './record-accumulator.js';
import type { FailureKind, PartitionOutcome, TransactionManager } from './transaction-manager.js';

/** Errors.NETWORK_EXCEPTION: what a disconnected request completes with (client side only). */
export const NETWORK_EXCEPTION = 13;

const INT_MAX = 2_147_483_647;

/**
 * Errors a broker returns before appending anything, so the attempt certainly wrote nothing.
 * Every other outcome of a sent attempt (no answer, REQUEST_TIMED_OUT, NOT_LEADER_OR_FOLLOWER
 * from a leader that appended then lost leadership, NOT_ENOUGH_REPLICAS_AFTER_APPEND...) may
 * have left the record in a log.
 */
const REFUSED_BEFORE_APPEND: ReadonlySet<number> = new Set<number>([
  Errors.INVALID_REQUIRED_ACKS,
  Errors.NOT_ENOUGH_REPLICAS,
  Errors.MESSAGE_TOO_LARGE,
  Errors.RECORD_LIST_TOO_LARGE,
  Errors.CORRUPT_MESSAGE,
  Errors.UNKNOWN_TOPIC_OR_PARTITION,
  Errors.OUT_OF_ORDER_SEQUENCE_NUMBER,
  Errors.INVALID_PRODUCER_EPOCH,
  Errors.UNKNOWN_PRODUCER_ID,
]);

/** Errors whose Java exception is an InvalidMetadataException: they ask for a metadata refresh. */
const INVALID_METADATA: ReadonlySet<number> = new Set<number>([
  Errors.NOT_LEADER_OR_FOLLOWER,
  Errors.LEADER_NOT_AVAILABLE,
  Errors.UNKNOWN_TOPIC_OR_PARTITION,
  Errors.KAFKA_STORAGE_ERROR,
  Errors.FENCED_LEADER_EPOCH,
  Errors.UNKNOWN_LEADER_EPOCH,
  NETWORK_EXCEPTION,
]);

export interface SenderConfig {
  readonly acks: Acks;
  readonly maxInFlightRequestsPerConnection: number;
  readonly maxRequestSizeBytes: number;
  readonly retries: number;
  readonly requestTimeoutMs: number;
  readonly deliveryTimeoutMs: number;
  /** The backoff before retry `attempts` (0-based) of a metadata or InitProducerId request. */
  readonly retryBackoffMs: (attempts: number) => number;
}

export interface SenderStats {
  produceRequests: number;
  batchesSent: number;
  recordsSent: number;
  batchesRetried: number;
  batchesExpired: number;
  metadataRequests: number;
  initProducerIdRequests: number;
}

export function clientErrorName(code: number): string {
  return code === NETWORK_EXCEPTION ? 'NETWORK_EXCEPTION' : errorName(code);
}

export class Sender {
  readonly stats: SenderStats = {
    produceRequests: 0,
    batchesSent: 0,
    recordsSent: 0,
    batchesRetried: 0,
    batchesExpired: 0,
    metadataRequests: 0,
    initProducerIdRequests: 0,
  };
  /** Drained and not yet completed, per partition, oldest first (Sender.inFlightBatches). */
  private readonly inFlightBatches = new Map<string, ProducerBatch[]>();
  private metadataInFlight = false;
  private initProducerIdNeeded = false;
  private initProducerIdInFlight = false;
  private initProducerIdAttempts = 0;
  private initProducerIdRetryAtMs = -Infinity;
  /** Max.in.flight = 1 guarantees order by muting a partition while its batch is out. */
  private readonly guaranteeMessageOrder: boolean;

  constructor(
    private readonly config: SenderConfig,
    private readonly accumulator: RecordAccumulator,
    private readonly metadata: ProducerMetadata,
    private readonly transactionManager: TransactionManager | null,
    private readonly network: NetworkClient,
    private readonly bootstrap: readonly number[],
    /** Each error a produce attempt met, retriable or not (for the history: NOT_ENOUGH_REPLICAS...). */
    private readonly onAttemptError: (partition: string, error: string) => void = () => {},
  ) {
    this.guaranteeMessageOrder = config.maxInFlightRequestsPerConnection === 1;
  }

  /**
   * Sender.runOnce. Returns when it must run again at the latest (local ms; Infinity when only an
   * event can make progress) and whether it sent produce requests (then the caller runs it again
   * at once, as Kafka polls with a zero timeout while nodes have data).
   */
  runOnce(nowMs: number): { nextRunMs: number; sentData: boolean } {
    let nextRunMs = this.maybeUpdateMetadata(nowMs);
    const tm = this.transactionManager;
    if (tm !== null) {
      tm.maybeResolveSequences();
      if (tm.bumpIdempotentEpochAndResetIdIfNeeded()) this.initProducerIdNeeded = true;
      if (this.initProducerIdNeeded) {
        // Sender.maybeSendAndPollTransactionalRequest: while a producer id is pending, no data goes.
        return { nextRunMs: Math.min(nextRunMs, this.maybeSendInitProducerId(nowMs)), sentData: false };
      }
    }
    const data = this.sendProducerData(nowMs);
    nextRunMs = Math.min(nextRunMs, data.nextRunMs);
    return { nextRunMs, sentData: data.sentData };
  }

  inFlightBatchCount(): number {
    let n = 0;
    for (const list of this.inFlightBatches.values()) n += list.length;
    return n;
  }

  // ------------------------------------------------------------ metadata and producer id

  private candidates(): number[] {
    const nodes = [...this.metadata.brokers()];
    for (const id of this.bootstrap) if (!nodes.includes(id)) nodes.push(id);
    return nodes;
  }

  /** NetworkClient's DefaultMetadataUpdater.maybeUpdate: one MetadataRequest at a time, to the least loaded node. */
  private maybeUpdateMetadata(nowMs: number): number {
    if (this.metadataInFlight) return Infinity;
    const dueMs = this.metadata.nextUpdateMs();
    if (dueMs > nowMs) return dueMs;
    const candidates = this.candidates();
    const node = this.network.leastLoadedNode(candidates, nowMs);
    if (node === undefined) return this.network.earliestReconnectMs(candidates, nowMs);
    const topics = this.metadata.topicsWanted();
    this.metadataInFlight = true;
    this.stats.metadataRequests++;
    this.network.send(
      node,
      { type: 'MetadataRequest', correlationId: 0, topics, sizeBytes: wireSize(topics.length) },
      (r) => {
        this.metadataInFlight = false;
        this.metadata.update(r as MetadataResponse, this.nowMsOf());
      },
      () => {
        this.metadataInFlight = false;
        this.metadata.failedUpdate(this.nowMsOf());
      },
    );
    return Infinity;
  }

  /** TransactionManager's InitProducerIdHandler, sent to the least loaded node (no coordinator without a transactional id). */
  private maybeSendInitProducerId(nowMs: number): number {
    if (this.initProducerIdInFlight) return Infinity;
    if (nowMs < this.initProducerIdRetryAtMs) return this.initProducerIdRetryAtMs;
    const candidates = this.candidates();
    const node = this.network.leastLoadedNode(candidates, nowMs);
    if (node === undefined) return this.network.earliestReconnectMs(candidates, nowMs);
    this.initProducerIdInFlight = true;
    this.stats.initProducerIdRequests++;
    const retryLater = () => {
      this.initProducerIdInFlight = false;
      this.initProducerIdRetryAtMs = this.nowMsOf() + this.config.retryBackoffMs(this.initProducerIdAttempts++);
    };
    this.network.send(
      node,
      {
        type: 'InitProducerIdRequest',
        correlationId: 0,
        transactionalId: null,
        transactionTimeoutMs: INT_MAX,
        producerId: NO_PRODUCER_ID,
        producerEpoch: NO_PRODUCER_EPOCH,
        sizeBytes: wireSize(1),
      },
      (r) => {
        const response = r as InitProducerIdResponse;
        if (response.error !== Errors.NONE) return retryLater();
        this.initProducerIdInFlight = false;
        this.initProducerIdNeeded = false;
        this.initProducerIdAttempts = 0;
        this.transactionManager!.initProducerIdSucceeded({ producerId: response.producerId, epoch: response.producerEpoch });
      },
      retryLater,
    );
    return Infinity;
  }

  // ------------------------------------------------------------ produce

  /** Sender.sendProducerData. */
  private sendProducerData(nowMs: number): { nextRunMs: number; sentData: boolean } {
    const result = this.accumulator.ready(this.metadata, nowMs);
    if (result.unknownLeaderTopics.size > 0) {
      for (const topic of result.unknownLeaderTopics) this.metadata.add(topic);
      this.metadata.requestUpdate();
    }
    const readyNodes: number[] = [];
    let notReadyTimeoutMs = Infinity;
    for (const node of result.readyNodes) {
      const ready = this.network.isReady(node, this.config.maxInFlightRequestsPerConnection, nowMs);
      this.accumulator.updateNodeLatencyStats(node, nowMs, ready);
      if (ready) readyNodes.push(node);
      else {
        // A full in-flight window frees up with an answer or a timeout, both events; only a
        // reconnect backoff needs a timer.
        const delayMs = this.network.connectionDelayMs(node, nowMs);
        if (delayMs > 0) notReadyTimeoutMs = Math.min(notReadyTimeoutMs, delayMs);
      }
    }
    const batches = this.accumulator.drain(this.metadata, readyNodes, this.config.maxRequestSizeBytes, nowMs);
    for (const list of batches.values()) {
      for (const batch of list) {
        this.addToInflightBatches(batch);
        if (this.guaranteeMessageOrder) this.accumulator.mutePartition(batch.key);
      }
    }
    const inflight = this.getExpiredInflightBatches(nowMs);
    const queued = this.accumulator.expiredBatches(nowMs);
    for (const batch of [...queued.expired, ...inflight.expired]) {
      this.stats.batchesExpired++;
      const message = `TimeoutException: Expiring ${batch.recordCount} record(s) for ${batch.key}:${Math.round(nowMs - batch.createdMs)} ms has passed since batch creation`;
      this.failBatch(batch, message, 'other', false, nowMs);
      if (this.transactionManager !== null && batch.inRetry) this.transactionManager.markSequenceUnresolved(batch);
    }
    let sentData = false;
    for (const [node, list] of batches) {
      if (list.length === 0) continue;
      this.sendProduceRequest(node, list);
      sentData = true;
    }
    const nextRunMs = Math.min(nowMs + Math.min(result.nextReadyCheckDelayMs, notReadyTimeoutMs), queued.nextExpiryTimeMs, inflight.nextExpiryTimeMs);
    return { nextRunMs, sentData };
  }

  /** Sender.getExpiredInflightBatches: Kafka fails in-flight batches at delivery.timeout.ms without waiting for their answers. */
  private getExpiredInflightBatches(nowMs: number): { expired: ProducerBatch[]; nextExpiryTimeMs: number } {
    const expired: ProducerBatch[] = [];
    let nextExpiryTimeMs = Infinity;
    for (const [key, list] of this.inFlightBatches) {
      while (list.length > 0) {
        const batch = list[0];
        if (!batch.hasReachedDeliveryTimeout(this.config.deliveryTimeoutMs, nowMs)) {
          nextExpiryTimeMs = Math.min(nextExpiryTimeMs, batch.createdMs + this.config.deliveryTimeoutMs);
          break;
        }
        list.shift();
        if (!batch.isDone) expired.push(batch);
      }
      if (list.length === 0) this.inFlightBatches.delete(key);
    }
    return { expired, nextExpiryTimeMs };
  }

  /** Sender.sendProduceRequest: one request per node with one batch per partition. */
  private sendProduceRequest(node: number, batches: readonly ProducerBatch[]): void {
    let bytes = 0;
    const partitions = batches.map((batch) => {
      batch.attemptInFlight = true;
      bytes += batch.estimatedSizeBytes;
      this.stats.batchesSent++;
      this.stats.recordsSent += batch.recordCount;
      return { topic: batch.topic, partition: batch.partition, batch: batch.toRecordBatch() };
    });
    this.stats.produceRequests++;
    const request = {
      type: 'ProduceRequest' as const,
      correlationId: 0,
      acks: this.config.acks,
      timeoutMs: this.config.requestTimeoutMs,
      partitions,
      sizeBytes: wireSize(partitions.length, bytes),
    };
    if (this.config.acks === 0) {
      // No answer will come: the batches complete as sent, with offset -1 (Sender.handleProduceResponse).
      this.network.sendOneWay(node, request);
      const nowMs = this.nowMsOf();
      for (const batch of batches) this.completeBatch(batch, { error: Errors.NONE, baseOffset: -1, logStartOffset: -1 }, nowMs);
      return;
    }
    this.network.send(
      node,
      request,
      (r) => this.handleProduceResponse(r as ProduceResponse, batches),
      () => {
        const nowMs = this.nowMsOf();
        for (const batch of batches) this.completeBatch(batch, { error: NETWORK_EXCEPTION, baseOffset: -1, logStartOffset: -1 }, nowMs);
      },
    );
  }

  private handleProduceResponse(response: ProduceResponse, batches: readonly ProducerBatch[]): void {
    const nowMs = this.nowMsOf();
    for (const batch of batches) {
      const answer: ProducePartitionResponse | undefined = response.partitions.find((p) => p.topic === batch.topic && p.partition === batch.partition);
      this.completeBatch(batch, answer ?? { error: Errors.UNKNOWN_SERVER_ERROR as ErrorCode, baseOffset: -1, logStartOffset: -1 }, nowMs);
    }
  }

  /** Sender.completeBatch: success, retry, or failure of one batch after an attempt. */
  private completeBatch(batch: ProducerBatch, response: PartitionOutcome, nowMs: number): void {
    const error = response.error;
    batch.attemptInFlight = false;
    if (error !== Errors.NONE && !REFUSED_BEFORE_APPEND.has(error)) batch.possiblyWritten = true;
    if (this.config.acks === 0) batch.possiblyWritten = true;
    if (error === Errors.NONE) {
      this.completeBatchOk(batch, response, nowMs);
    } else {
      this.onAttemptError(batch.key, clientErrorName(error));
      const retriable = error === NETWORK_EXCEPTION || isRetriable(error as ErrorCode);
      if (this.canRetry(batch, response, retriable, nowMs)) {
        this.reenqueueBatch(batch, nowMs);
      } else if (error === Errors.DUPLICATE_SEQUENCE_NUMBER) {
        // The broker no longer has the original batch's metadata: success without an offset.
        this.completeBatchOk(batch, { ...response, baseOffset: -1 }, nowMs);
      } else {
        // Sequences are adjusted only if the batch did not exhaust its retries: if it did, whether
        // its sequence was accepted is unknown.
        this.failBatch(batch, clientErrorName(error), failureKind(error), batch.attempts < this.config.retries, nowMs);
      }
      if (INVALID_METADATA.has(error)) this.metadata.requestUpdate();
    }
    if (this.guaranteeMessageOrder) this.accumulator.unmutePartition(batch.key);
  }

  /** Sender.canRetry. */
  private canRetry(batch: ProducerBatch, response: PartitionOutcome, retriable: boolean, nowMs: number): boolean {
    if (batch.hasReachedDeliveryTimeout(this.config.deliveryTimeoutMs, nowMs) || batch.attempts >= this.config.retries || batch.isDone) return false;
    return this.transactionManager === null ? retriable : this.transactionManager.canRetry(response, batch, retriable);
  }

  private reenqueueBatch(batch: ProducerBatch, nowMs: number): void {
    this.accumulator.reenqueue(batch, nowMs);
    this.removeFromInflightBatches(batch);
    this.stats.batchesRetried++;
  }

  private completeBatchOk(batch: ProducerBatch, response: PartitionOutcome, nowMs: number): void {
    this.transactionManager?.handleCompletedBatch(batch, response);
    if (batch.succeed(response.baseOffset, nowMs)) {
      this.removeFromInflightBatches(batch);
      this.accumulator.deallocate(batch);
    }
  }

  private failBatch(batch: ProducerBatch, message: string, kind: FailureKind, adjustSequenceNumbers: boolean, nowMs: number): void {
    this.transactionManager?.handleFailedBatch(batch, kind, adjustSequenceNumbers);
    if (batch.fail(message, nowMs)) {
      this.removeFromInflightBatches(batch);
      this.accumulator.deallocate(batch);
    }
  }

  private addToInflightBatches(batch: ProducerBatch): void {
    const list = this.inFlightBatches.get(batch.key);
    if (list === undefined) this.inFlightBatches.set(batch.key, [batch]);
    else list.push(batch);
  }

  private removeFromInflightBatches(batch: ProducerBatch): void {
    const list = this.inFlightBatches.get(batch.key);
    if (list === undefined) return;
    const i = list.indexOf(batch);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.inFlightBatches.delete(batch.key);
  }

  private nowMsOf(): number {
    return this.network.nowMs();
  }
}

function failureKind(error: number): FailureKind {
  if (error === Errors.OUT_OF_ORDER_SEQUENCE_NUMBER) return 'out-of-order-sequence';
  if (error === Errors.UNKNOWN_PRODUCER_ID) return 'unknown-producer-id';
  return 'other';
}
