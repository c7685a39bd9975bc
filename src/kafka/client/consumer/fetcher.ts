/**
 * Fetching records and finding positions (apache/kafka clients/src/main/java/org/apache/kafka/
 * clients/consumer/internals/AbstractFetch.java + Fetcher.java (sendFetches), FetchCollector.java
 * (collectFetch, handleInitializeErrors), OffsetFetcher.java (resetPositionsIfNeeded with
 * ListOffsets, validatePositionsIfNeeded with OffsetForLeaderEpoch) and SubscriptionState's
 * maybeCompleteValidation (KIP-320 truncation detection)).
 *
 * Requests are only sent from the application thread (poll()); answers are buffered whenever they
 * arrive, as Kafka's heartbeat thread also polls the network client.
 */
import { Errors, errorName, type ErrorCode } from '../../protocol/errors.js';
import {
  CONSUMER_REPLICA_ID,
  EARLIEST_TIMESTAMP,
  LATEST_TIMESTAMP,
  NO_LEADER_EPOCH,
  UNDEFINED_EPOCH,
  UNDEFINED_EPOCH_OFFSET,
  wireSize,
  type FetchResponse,
  type ListOffsetsResponse,
  type OffsetForLeaderEpochResponse,
} from '../../protocol/messages.js';
import { tpKey, type TopicPartition } from '../../protocol/topic-partition.js';
import type { NetworkClient } from '../network-client.js';
import type { ProducerMetadata } from '../producer/producer-metadata.js';
import type { ConsumerConfig } from './consumer-config.js';
import type { FetchPosition, SubscriptionState, TopicPartitionState } from './subscription-state.js';

/** A record as poll() returns it (ConsumerRecord, reduced). */
export interface ConsumerRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: string;
  readonly timestampMs: number;
  /** The leader epoch of the batch it came in (ConsumerRecord.leaderEpoch). */
  readonly leaderEpoch: number;
}

/** A partition's data from one fetch response, waiting in the fetch buffer (CompletedFetch). */
interface CompletedFetch {
  readonly tp: TopicPartition;
  /** The offset the next record returned must be at (CompletedFetch.nextFetchOffset). */
  nextFetchOffset: number;
  lastEpoch: number | null;
  readonly records: ConsumerRecord[];
  index: number;
}

export interface FetcherHost {
  nowMs(): number;
  readonly network: NetworkClient;
  readonly metadata: ProducerMetadata;
  readonly subscriptions: SubscriptionState;
  /** KIP-320 epochs in requests (the `fetchEpochFencing` switch). */
  readonly epochFencing: boolean;
  record(entry: { type: string } & Record<string, unknown>): void;
  retryBackoffMs(attempts: number): number;
  /** An error poll() must throw (NoOffsetForPartitionException, OffsetOutOfRangeException, LogTruncationException). */
  raise(error: string): void;
}

export class Fetcher {
  private readonly buffer: CompletedFetch[] = [];
  private readonly nodesWithPendingFetch = new Set<number>();
  private readonly nodesWithPendingListOffsets = new Set<number>();
  private readonly nodesWithPendingValidation = new Set<number>();
  private offsetAttempts = 0;

  constructor(
    private readonly config: ConsumerConfig,
    private readonly host: FetcherHost,
  ) {}

  /** Records buffered and not yet returned by poll(). */
  bufferedRecordCount(): number {
    let n = 0;
    for (const f of this.buffer) n += f.records.length - f.index;
    return n;
  }

  /** Drops buffered data of partitions no longer assigned (FetchBuffer.retainAll). */
  retainAssigned(): void {
    for (let i = this.buffer.length - 1; i >= 0; i--) if (!this.host.subscriptions.isAssigned(this.buffer[i].tp)) this.buffer.splice(i, 1);
  }

  // ------------------------------------------------------------ positions

  /**
   * SubscriptionState.maybeValidatePositionForCurrentLeader for every assigned partition: a leader
   * (epoch) other than the one the position was set with sends the position to validation, when
   * it has an epoch to validate.
   */
  validatePositionsOnMetadataChange(): void {
    if (!this.host.epochFencing) return;
    for (const s of this.host.subscriptions.states()) {
      if (s.fetchState === 'AWAIT_RESET' || s.position === null) continue;
      const info = this.host.metadata.partitionInfo(s.tp.topic, s.tp.partition);
      if (info === undefined || info.leader === null) continue;
      if (s.position.leader === info.leader && s.position.leaderEpoch === info.leaderEpoch) continue;
      const next: FetchPosition = { ...s.position, leader: info.leader, leaderEpoch: info.leaderEpoch };
      this.validatePosition(s, next);
    }
  }

  /** TopicPartitionState.validatePosition: validation only with an epoch for both the offset and the leader. */
  validatePosition(s: TopicPartitionState, position: FetchPosition): void {
    if (this.host.epochFencing && position.offsetEpoch !== null && position.leaderEpoch !== null) this.host.subscriptions.seekUnvalidated(s, position);
    else this.host.subscriptions.seekValidated(s, position);
  }

  currentLeaderPosition(offset: number, offsetEpoch: number | null, tp: TopicPartition): FetchPosition {
    const info = this.host.metadata.partitionInfo(tp.topic, tp.partition);
    return { offset, offsetEpoch, leader: info?.leader ?? null, leaderEpoch: info?.leaderEpoch ?? null };
  }

  /**
   * OffsetFetcher.resetPositionsIfNeeded: ListOffsets (earliest or latest) to each leader for the
   * partitions awaiting a reset. With auto.offset.reset=none, NoOffsetForPartitionException.
   */
  resetPositionsIfNeeded(nowMs: number): void {
    const byNode = new Map<number, TopicPartitionState[]>();
    const undefinedReset: string[] = [];
    for (const s of this.host.subscriptions.states()) {
      if (s.fetchState !== 'AWAIT_RESET' || s.inFlight || nowMs < s.nextRetryMs) continue;
      if (s.resetStrategy === 'none') {
        undefinedReset.push(tpKey(s.tp.topic, s.tp.partition));
        continue;
      }
      const leader = this.host.metadata.leaderFor(s.tp.topic, s.tp.partition);
      if (leader === null || this.host.network.connectionDelayMs(leader, nowMs) > 0) {
        this.host.metadata.requestUpdate();
        continue;
      }
      byNode.set(leader, [...(byNode.get(leader) ?? []), s]);
    }
    if (undefinedReset.length > 0) this.host.raise(`NoOffsetForPartitionException: Undefined offset with no reset policy for partitions: [${undefinedReset.join(', ')}]`);
    for (const [node, states] of byNode) {
      if (this.nodesWithPendingListOffsets.has(node)) continue;
      this.nodesWithPendingListOffsets.add(node);
      const requested = states.map((s) => ({ s, strategy: s.resetStrategy }));
      for (const s of states) s.inFlight = true;
      this.host.network.send(
        node,
        {
          type: 'ListOffsetsRequest',
          correlationId: 0,
          replicaId: CONSUMER_REPLICA_ID,
          isolationLevel: this.config['isolation.level'],
          partitions: states.map((s) => ({
            topic: s.tp.topic,
            partition: s.tp.partition,
            currentLeaderEpoch: this.host.epochFencing ? (this.host.metadata.leaderEpochFor(s.tp.topic, s.tp.partition) ?? NO_LEADER_EPOCH) : NO_LEADER_EPOCH,
            timestamp: s.resetStrategy === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP,
          })),
          sizeBytes: wireSize(states.length),
        },
        (resp) => {
          this.nodesWithPendingListOffsets.delete(node);
          const r = resp as ListOffsetsResponse;
          const now = this.host.nowMs();
          for (const { s, strategy } of requested) {
            s.inFlight = false;
            const p = r.partitions.find((x) => x.topic === s.tp.topic && x.partition === s.tp.partition);
            if (p === undefined) continue;
            // SubscriptionState.maybeSeekUnvalidated: only if still awaiting the same reset.
            if (!this.host.subscriptions.isAssigned(s.tp) || s.fetchState !== 'AWAIT_RESET' || s.resetStrategy !== strategy) continue;
            if (p.error !== Errors.NONE) {
              this.retryLater(s, now, p.error);
              continue;
            }
            this.offsetAttempts = 0;
            this.host.record({ type: 'offset-reset', topic: s.tp.topic, partition: s.tp.partition, strategy, offset: p.offset });
            this.validatePosition(s, this.currentLeaderPosition(p.offset, null, s.tp));
          }
        },
        () => {
          this.nodesWithPendingListOffsets.delete(node);
          const now = this.host.nowMs();
          for (const { s } of requested) {
            s.inFlight = false;
            this.retryLater(s, now, null);
          }
        },
      );
    }
  }

  private retryLater(s: TopicPartitionState, nowMs: number, _error: ErrorCode | null): void {
    this.host.metadata.requestUpdate();
    s.nextRetryMs = nowMs + this.host.retryBackoffMs(this.offsetAttempts++);
  }

  /**
   * OffsetFetcher.validatePositionsIfNeeded: OffsetForLeaderEpoch for the epoch of each position
   * awaiting validation, then SubscriptionState.maybeCompleteValidation (KIP-320): an end offset
   * below the position means the log was truncated under us.
   */
  validatePositionsIfNeeded(nowMs: number): void {
    const byNode = new Map<number, TopicPartitionState[]>();
    for (const s of this.host.subscriptions.states()) {
      if (s.fetchState !== 'AWAIT_VALIDATION' || s.inFlight || nowMs < s.nextRetryMs || s.position === null) continue;
      const leader = s.position.leader;
      if (leader === null || this.host.network.connectionDelayMs(leader, nowMs) > 0) {
        this.host.metadata.requestUpdate();
        continue;
      }
      byNode.set(leader, [...(byNode.get(leader) ?? []), s]);
    }
    for (const [node, states] of byNode) {
      if (this.nodesWithPendingValidation.has(node)) continue;
      this.nodesWithPendingValidation.add(node);
      const requested = states.map((s) => ({ s, position: s.position as FetchPosition }));
      for (const s of states) s.inFlight = true;
      this.host.network.send(
        node,
        {
          type: 'OffsetForLeaderEpochRequest',
          correlationId: 0,
          replicaId: CONSUMER_REPLICA_ID,
          partitions: requested.map(({ s, position }) => ({ topic: s.tp.topic, partition: s.tp.partition, currentLeaderEpoch: position.leaderEpoch ?? NO_LEADER_EPOCH, leaderEpoch: position.offsetEpoch ?? NO_LEADER_EPOCH })),
          sizeBytes: wireSize(states.length),
        },
        (resp) => {
          this.nodesWithPendingValidation.delete(node);
          const r = resp as OffsetForLeaderEpochResponse;
          const now = this.host.nowMs();
          for (const { s, position } of requested) {
            s.inFlight = false;
            const p = r.partitions.find((x) => x.topic === s.tp.topic && x.partition === s.tp.partition);
            if (p === undefined) continue;
            if (!this.host.subscriptions.isAssigned(s.tp) || s.fetchState !== 'AWAIT_VALIDATION' || s.position !== position) continue;
            if (p.error !== Errors.NONE) {
              this.retryLater(s, now, p.error);
              continue;
            }
            this.maybeCompleteValidation(s, position, p.leaderEpoch, p.endOffset);
          }
        },
        () => {
          this.nodesWithPendingValidation.delete(node);
          const now = this.host.nowMs();
          for (const { s } of requested) {
            s.inFlight = false;
            this.retryLater(s, now, null);
          }
        },
      );
    }
  }

  /** SubscriptionState.maybeCompleteValidation. */
  private maybeCompleteValidation(s: TopicPartitionState, position: FetchPosition, epoch: number, endOffset: number): void {
    const subs = this.host.subscriptions;
    const tp = s.tp;
    if (endOffset === UNDEFINED_EPOCH_OFFSET || epoch === UNDEFINED_EPOCH) {
      this.host.record({ type: 'truncation-detected', topic: tp.topic, partition: tp.partition, offset: position.offset, offsetEpoch: position.offsetEpoch, endOffset, endEpoch: epoch, resetTo: subs.hasDefaultOffsetResetPolicy ? subs.defaultResetStrategy : null });
      if (subs.hasDefaultOffsetResetPolicy) subs.requestOffsetReset(s);
      else this.host.raise(`LogTruncationException: Truncated partition ${tpKey(tp.topic, tp.partition)} at offset ${position.offset} with no known divergent offset`);
    } else if (endOffset < position.offset) {
      this.host.record({ type: 'truncation-detected', topic: tp.topic, partition: tp.partition, offset: position.offset, offsetEpoch: position.offsetEpoch, endOffset, endEpoch: epoch, resetTo: subs.hasDefaultOffsetResetPolicy ? endOffset : null });
      if (subs.hasDefaultOffsetResetPolicy) {
        // "resetting offset to the first offset known to diverge"
        subs.seekValidated(s, { offset: endOffset, offsetEpoch: epoch, leader: position.leader, leaderEpoch: position.leaderEpoch });
      } else {
        this.host.raise(`LogTruncationException: Truncation detected for partition ${tpKey(tp.topic, tp.partition)} at offset ${position.offset}, the end offset from the broker is ${endOffset}`);
      }
    } else {
      subs.seekValidated(s, position);
    }
  }

  // ------------------------------------------------------------ fetch

  /**
   * AbstractFetch.prepareFetchRequests + Fetcher.sendFetches: one FetchRequest per leader with no
   * fetch already in flight, for the fetchable partitions with nothing buffered.
   */
  sendFetches(nowMs: number): number {
    const buffered = new Set(this.buffer.filter((f) => f.index < f.records.length).map((f) => tpKey(f.tp.topic, f.tp.partition)));
    const byNode = new Map<number, TopicPartitionState[]>();
    for (const s of this.host.subscriptions.states()) {
      if (!s.hasValidPosition || s.position === null || buffered.has(tpKey(s.tp.topic, s.tp.partition))) continue;
      const leader = this.host.metadata.leaderFor(s.tp.topic, s.tp.partition);
      if (leader === null) {
        this.host.metadata.requestUpdate();
        continue;
      }
      if (this.nodesWithPendingFetch.has(leader) || this.host.network.connectionDelayMs(leader, nowMs) > 0) continue;
      byNode.set(leader, [...(byNode.get(leader) ?? []), s]);
    }
    for (const [node, states] of byNode) {
      this.nodesWithPendingFetch.add(node);
      const sent = states.map((s) => ({ s, position: s.position as FetchPosition }));
      this.host.network.send(
        node,
        {
          type: 'FetchRequest',
          correlationId: 0,
          replicaId: CONSUMER_REPLICA_ID,
          replicaEpoch: -1,
          maxWaitMs: this.config['fetch.max.wait.ms'],
          minBytes: this.config['fetch.min.bytes'],
          maxBytes: this.config['fetch.max.bytes'],
          isolationLevel: this.config['isolation.level'],
          partitions: sent.map(({ s, position }) => ({
            topic: s.tp.topic,
            partition: s.tp.partition,
            fetchOffset: position.offset,
            currentLeaderEpoch: this.host.epochFencing ? (this.host.metadata.leaderEpochFor(s.tp.topic, s.tp.partition) ?? NO_LEADER_EPOCH) : NO_LEADER_EPOCH,
            lastFetchedEpoch: NO_LEADER_EPOCH,
            logStartOffset: -1,
            partitionMaxBytes: this.config['max.partition.fetch.bytes'],
          })),
          sizeBytes: wireSize(states.length),
        },
        (resp) => {
          this.nodesWithPendingFetch.delete(node);
          this.handleFetchResponse(resp as FetchResponse, sent);
        },
        () => {
          // NetworkClient: a disconnect asks for a metadata update.
          this.nodesWithPendingFetch.delete(node);
          this.host.metadata.requestUpdate();
        },
      );
    }
    return byNode.size;
  }

  /** FetchCollector.initialize / handleInitializeErrors, for each partition of the answer. */
  private handleFetchResponse(r: FetchResponse, sent: readonly { s: TopicPartitionState; position: FetchPosition }[]): void {
    const subs = this.host.subscriptions;
    for (const p of r.partitions) {
      const entry = sent.find((x) => x.s.tp.topic === p.topic && x.s.tp.partition === p.partition);
      if (entry === undefined) continue;
      const { s, position } = entry;
      const current = subs.state(s.tp);
      // The partition was revoked, or its position moved (seek, reset) while the fetch was out.
      if (current !== s || s.position === null || s.position.offset !== position.offset || !s.hasValidPosition) continue;
      const error = p.error;
      if (error === Errors.NONE) {
        s.highWatermark = p.highWatermark;
        const records: ConsumerRecord[] = [];
        for (const b of p.batches) {
          b.records.forEach((rec, i) => {
            const offset = b.baseOffset + i;
            if (offset < position.offset) return;
            records.push({ topic: p.topic, partition: p.partition, offset, key: rec.key, value: rec.value, timestampMs: rec.timestampMs, leaderEpoch: b.partitionLeaderEpoch });
          });
        }
        if (records.length > 0) this.buffer.push({ tp: s.tp, nextFetchOffset: position.offset, lastEpoch: position.offsetEpoch, records, index: 0 });
      } else if (
        error === Errors.NOT_LEADER_OR_FOLLOWER ||
        error === Errors.REPLICA_NOT_AVAILABLE ||
        error === Errors.KAFKA_STORAGE_ERROR ||
        error === Errors.FENCED_LEADER_EPOCH ||
        error === Errors.OFFSET_NOT_AVAILABLE ||
        error === Errors.UNKNOWN_TOPIC_OR_PARTITION ||
        error === Errors.LEADER_NOT_AVAILABLE
      ) {
        this.host.metadata.requestUpdate();
      } else if (error === Errors.UNKNOWN_LEADER_EPOCH) {
        // "Received unknown leader epoch error in fetch": the broker is behind; retry.
      } else if (error === Errors.OFFSET_OUT_OF_RANGE) {
        // FetchCollector.handleOffsetOutOfRange.
        this.host.record({ type: 'offset-out-of-range', topic: p.topic, partition: p.partition, offset: position.offset });
        if (subs.hasDefaultOffsetResetPolicy) subs.requestOffsetReset(s);
        else this.host.raise(`OffsetOutOfRangeException: Fetch position FetchPosition{offset=${position.offset}} is out of range for partition ${tpKey(p.topic, p.partition)}`);
      } else {
        this.host.raise(`KafkaException: Unexpected error code ${errorName(error)} while fetching at offset ${position.offset} from topic-partition ${tpKey(p.topic, p.partition)}`);
      }
    }
  }

  /**
   * FetchCollector.collectFetch: up to `maxRecords` records from the buffer, in arrival order,
   * only from partitions still fetchable at the position the data starts at; advances positions.
   */
  collectFetch(maxRecords: number): ConsumerRecord[] {
    const subs = this.host.subscriptions;
    const out: ConsumerRecord[] = [];
    while (out.length < maxRecords && this.buffer.length > 0) {
      const f = this.buffer[0];
      const s = subs.state(f.tp);
      if (s === undefined || !s.hasValidPosition || s.position === null || s.position.offset !== f.nextFetchOffset) {
        // "Ignoring fetched records for partition since it no longer has valid position / is no longer assigned"
        this.buffer.shift();
        continue;
      }
      const take = Math.min(maxRecords - out.length, f.records.length - f.index);
      const slice = f.records.slice(f.index, f.index + take);
      f.index += take;
      out.push(...slice);
      const last = slice[slice.length - 1];
      f.nextFetchOffset = last.offset + 1;
      f.lastEpoch = last.leaderEpoch;
      s.position = { ...s.position, offset: f.nextFetchOffset, offsetEpoch: last.leaderEpoch >= 0 ? last.leaderEpoch : s.position.offsetEpoch };
      if (f.index >= f.records.length) this.buffer.shift();
    }
    return out;
  }
}
