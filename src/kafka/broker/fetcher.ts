import { Errors, type ErrorCode } from '../protocol/errors.js';
import {
  NO_LEADER_EPOCH,
  UNDEFINED_EPOCH,
  UNDEFINED_EPOCH_OFFSET,
  wireSize,
  type EpochEndOffset,
  type FetchPartition,
  type FetchRequest,
  type FetchResponse,
  type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse,
} from '../protocol/messages.js';
import { lastOffset } from '../protocol/records.js';
import type { ProtocolSwitches } from '../protocol/switches.js';
import type { Partition } from './partition.js';

/** A follower partition's place in the fetch loop (AbstractFetcherThread's PartitionFetchState). */
interface FetchState {
  partition: Partition;
  fetchOffset: number;
  currentLeaderEpoch: number;
  /** Truncating: waiting for OffsetForLeaderEpoch before fetching (the pre-KIP-595 path). */
  truncating: boolean;
  /** Backed off until this time (ms) after an error. */
  delayedUntilMs: number;
}

/** What the fetcher asks of its broker. */
export interface FetcherHost {
  readonly brokerId: number;
  readonly switches: ProtocolSwitches;
  nowMs(): number;
  brokerEpoch(): number;
  /** Sends a request to the leader and routes the answer (or a timeout: undefined) back. */
  sendFetch(leader: number, request: FetchRequest, onResponse: (response: FetchResponse | undefined) => void): void;
  sendOffsetForLeaderEpoch(leader: number, request: OffsetForLeaderEpochRequest, onResponse: (response: OffsetForLeaderEpochResponse | undefined) => void): void;
  /** Re-runs the loop after `delayMs` (a backoff). */
  wakeAfter(leader: number, delayMs: number): void;
  /** A follower truncated its log (for the history and the online invariants). */
  onTruncated(partition: Partition, offset: number): void;
  /** A follower append finished: the host may need to wait for a flush (flush.messages). */
  afterFollowerAppend(partition: Partition, flushOpId: number, resume: () => void): void;
  /** Config, Kafka names. */
  readonly replicaFetchWaitMaxMs: number;
  readonly replicaFetchMinBytes: number;
  readonly replicaFetchMaxBytes: number;
  readonly replicaFetchResponseMaxBytes: number;
  readonly replicaFetchBackoffMs: number;
}

/**
 * Fetches from one leader for every partition this broker follows there
 * (core/src/main/scala/kafka/server/AbstractFetcherThread.scala and ReplicaFetcherThread.scala).
 * One request is in flight at a time; when it returns, the next goes out at once (the leader
 * long-polls it for up to replica.fetch.wait.max.ms). Truncation after a leader change follows
 * the protocol switches: by diverging epoch in fetch responses (today), by OffsetForLeaderEpoch
 * (KIP-101 to KIP-595, and when fetch epochs are off), or to the high watermark (before KIP-101,
 * done by Partition.makeFollower).
 */
export class ReplicaFetcher {
  private readonly states = new Map<string, FetchState>();
  private inFlight = false;
  private stopped = false;

  constructor(
    readonly leaderId: number,
    private readonly host: FetcherHost,
  ) {}

  get size(): number {
    return this.states.size;
  }

  has(key: string): boolean {
    return this.states.has(key);
  }

  /**
   * Starts (or restarts, on a new leader epoch) fetching a partition. With epoch truncation on
   * and an epoch cache, the first fetch itself carries LastFetchedEpoch; with the older
   * OffsetForLeaderEpoch path it truncates first. Its first fetch offset is its LEO when it has
   * epochs, else its HW (ReplicaManager.initialFetchOffset).
   */
  addPartition(partition: Partition): void {
    const log = partition.log;
    const hasEpochs = log.latestEpoch() !== UNDEFINED_EPOCH;
    const byDivergingEpoch = this.truncatesOnFetch();
    const byOffsetForLeaderEpoch = this.host.switches.leaderEpochTruncation && !byDivergingEpoch;
    this.states.set(partition.key, {
      partition,
      fetchOffset: hasEpochs || !this.host.switches.leaderEpochTruncation ? log.logEndOffset : log.highWatermark,
      currentLeaderEpoch: partition.leaderEpoch,
      truncating: byOffsetForLeaderEpoch || (byDivergingEpoch && !hasEpochs),
      delayedUntilMs: 0,
    });
    this.maybeSend();
  }

  /**
   * Truncation on fetch (LastFetchedEpoch / DivergingEpoch, Kafka 2.7+) needs every fix it
   * builds on; with any of KIP-101, KIP-279 or KIP-320 off, the fetcher uses the older
   * OffsetForLeaderEpoch round trip of that era.
   */
  private truncatesOnFetch(): boolean {
    const sw = this.host.switches;
    return sw.leaderEpochTruncation && sw.fetchEpochFencing && sw.epochEndOffsetLookup;
  }

  removePartition(key: string): void {
    this.states.delete(key);
  }

  stop(): void {
    this.stopped = true;
    this.states.clear();
  }

  /** The loop: truncate what must be truncated, else fetch what is ready. */
  maybeSend(): void {
    if (this.inFlight || this.stopped || this.states.size === 0) return;
    const nowMs = this.host.nowMs();
    const ready = [...this.states.values()].filter((s) => s.delayedUntilMs <= nowMs);
    if (ready.length === 0) {
      const next = Math.min(...[...this.states.values()].map((s) => s.delayedUntilMs));
      this.host.wakeAfter(this.leaderId, Math.max(1, next - nowMs));
      return;
    }
    const truncating = ready.filter((s) => s.truncating);
    if (truncating.length > 0) this.sendOffsetForLeaderEpoch(truncating);
    else this.sendFetch(ready);
  }

  // ------------------------------------------------------------ fetch

  private sendFetch(ready: FetchState[]): void {
    const sw = this.host.switches;
    const partitions: FetchPartition[] = ready.map((s) => ({
      topic: s.partition.topic,
      partition: s.partition.partition,
      fetchOffset: s.fetchOffset,
      currentLeaderEpoch: sw.fetchEpochFencing ? s.currentLeaderEpoch : NO_LEADER_EPOCH,
      lastFetchedEpoch: this.truncatesOnFetch() ? s.partition.log.latestEpoch() : NO_LEADER_EPOCH,
      logStartOffset: s.partition.log.logStartOffset,
      partitionMaxBytes: this.host.replicaFetchMaxBytes,
    }));
    const request: FetchRequest = {
      type: 'FetchRequest',
      correlationId: 0,
      replicaId: this.host.brokerId,
      replicaEpoch: sw.brokerEpochFencing ? this.host.brokerEpoch() : -1,
      maxWaitMs: this.host.replicaFetchWaitMaxMs,
      minBytes: this.host.replicaFetchMinBytes,
      maxBytes: this.host.replicaFetchResponseMaxBytes,
      isolationLevel: 'read_uncommitted',
      partitions,
      sizeBytes: wireSize(partitions.length),
    };
    const sentOffsets = new Map(ready.map((s) => [s.partition.key, s.fetchOffset]));
    this.inFlight = true;
    this.host.sendFetch(this.leaderId, request, (response) => {
      this.inFlight = false;
      if (this.stopped) return;
      if (response === undefined) {
        // The whole request failed: back off every partition (AbstractFetcherThread).
        for (const s of this.states.values()) s.delayedUntilMs = this.host.nowMs() + this.host.replicaFetchBackoffMs;
      } else {
        this.processFetchResponse(response, sentOffsets, () => this.maybeSend());
        return;
      }
      this.maybeSend();
    });
  }

  private processFetchResponse(response: FetchResponse, sentOffsets: Map<string, number>, done: () => void): void {
    const pending = [...response.partitions];
    const next = (): void => {
      const p = pending.shift();
      if (p === undefined) return done();
      const key = `${p.topic}-${p.partition}`;
      const state = this.states.get(key);
      // Only if nothing changed while the request was out (a new epoch, a truncation).
      if (state === undefined || sentOffsets.get(key) !== state.fetchOffset) return next();
      if (p.error !== Errors.NONE) {
        this.onPartitionError(state, p.error);
        return next();
      }
      if (p.divergingEpoch !== undefined) {
        this.truncate(state, p.divergingEpoch);
        return next();
      }
      const log = state.partition.log;
      if (p.batches.length > 0) {
        const appended = log.appendAsFollower(p.batches);
        if (!appended.ok) {
          state.delayedUntilMs = this.host.nowMs() + this.host.replicaFetchBackoffMs;
          return next();
        }
        state.fetchOffset = lastOffset(p.batches[p.batches.length - 1]) + 1;
        log.updateHighWatermark(p.highWatermark);
        log.maybeIncrementLogStartOffset(p.logStartOffset);
        // With flush.messages the follower fsyncs before it fetches again, so its next fetch
        // offset (what the leader counts for the HW) is durable.
        return this.host.afterFollowerAppend(state.partition, appended.flushOpId, next);
      }
      log.updateHighWatermark(p.highWatermark);
      log.maybeIncrementLogStartOffset(p.logStartOffset);
      return next();
    };
    next();
  }

  private onPartitionError(state: FetchState, error: ErrorCode): void {
    const nowMs = this.host.nowMs();
    if (error === Errors.OFFSET_OUT_OF_RANGE) {
      // fetchOffsetAndTruncate, simplified: the leader's log no longer holds our fetch offset.
      // Truncate to the HW (safe for both directions) and fetch from there after a backoff.
      const log = state.partition.log;
      if (state.fetchOffset > log.logEndOffset || state.fetchOffset < log.logStartOffset) state.fetchOffset = log.logEndOffset;
      else {
        if (log.truncateTo(log.highWatermark)) this.host.onTruncated(state.partition, log.highWatermark);
        state.fetchOffset = log.logEndOffset;
      }
      state.delayedUntilMs = nowMs + this.host.replicaFetchBackoffMs;
      return;
    }
    if (error === Errors.FENCED_LEADER_EPOCH && state.currentLeaderEpoch === state.partition.leaderEpoch) {
      // onPartitionFenced: our epoch is stale; stop until new metadata restarts us.
      this.states.delete(state.partition.key);
      return;
    }
    state.delayedUntilMs = nowMs + this.host.replicaFetchBackoffMs;
  }

  // ------------------------------------------------------------ truncation

  private sendOffsetForLeaderEpoch(truncating: FetchState[]): void {
    const withEpochs = truncating.filter((s) => s.partition.log.latestEpoch() !== UNDEFINED_EPOCH);
    // No epochs to ask about: truncate to the high watermark (truncateToHighWatermark).
    for (const s of truncating) {
      if (s.partition.log.latestEpoch() !== UNDEFINED_EPOCH) continue;
      if (s.partition.log.truncateTo(s.fetchOffset)) this.host.onTruncated(s.partition, s.fetchOffset);
      s.fetchOffset = s.partition.log.logEndOffset;
      s.truncating = false;
    }
    if (withEpochs.length === 0) return this.maybeSend();
    const request: OffsetForLeaderEpochRequest = {
      type: 'OffsetForLeaderEpochRequest',
      correlationId: 0,
      replicaId: this.host.brokerId,
      partitions: withEpochs.map((s) => ({
        topic: s.partition.topic,
        partition: s.partition.partition,
        currentLeaderEpoch: this.host.switches.fetchEpochFencing ? s.currentLeaderEpoch : NO_LEADER_EPOCH,
        leaderEpoch: s.partition.log.latestEpoch(),
      })),
      sizeBytes: wireSize(withEpochs.length),
    };
    const epochs = new Map(withEpochs.map((s) => [s.partition.key, s.currentLeaderEpoch]));
    this.inFlight = true;
    this.host.sendOffsetForLeaderEpoch(this.leaderId, request, (response) => {
      this.inFlight = false;
      if (this.stopped) return;
      const nowMs = this.host.nowMs();
      if (response === undefined) {
        for (const s of withEpochs) s.delayedUntilMs = nowMs + this.host.replicaFetchBackoffMs;
      } else {
        for (const p of response.partitions) {
          const key = `${p.topic}-${p.partition}`;
          const state = this.states.get(key);
          if (state === undefined || epochs.get(key) !== state.currentLeaderEpoch || !state.truncating) continue;
          if (p.error === Errors.NONE) this.truncate(state, { epoch: p.leaderEpoch, endOffset: p.endOffset });
          else if (p.error === Errors.FENCED_LEADER_EPOCH) this.states.delete(key);
          else state.delayedUntilMs = nowMs + this.host.replicaFetchBackoffMs;
        }
      }
      this.maybeSend();
    });
  }

  /**
   * AbstractFetcherThread.getOffsetTruncationState, then Partition.truncateTo. The answer is the
   * leader's (epoch, end offset) for our last epoch; if our own copy of that epoch ends earlier,
   * or we hold a different epoch, we cut there and, with fetch epochs, let the next fetch check
   * again (the loop repeats until the logs agree).
   */
  private truncate(state: FetchState, leader: EpochEndOffset): void {
    const log = state.partition.log;
    const leo = log.logEndOffset;
    let offset: number;
    let completed = true;
    if (leader.endOffset === UNDEFINED_EPOCH_OFFSET) {
      offset = log.highWatermark; // the leader knows nothing of our epochs
    } else if (leader.epoch === UNDEFINED_EPOCH) {
      offset = Math.min(leader.endOffset, leo); // a pre-KIP-279 leader: a single step, no epoch
    } else {
      const own = log.endOffsetForEpoch(leader.epoch);
      if (own.endOffset === UNDEFINED_EPOCH_OFFSET) offset = Math.min(leader.endOffset, leo);
      else if (own.epoch !== leader.epoch) {
        offset = Math.min(own.endOffset, leo);
        completed = false;
      } else offset = Math.min(own.endOffset, leader.endOffset, leo);
    }
    if (log.truncateTo(offset)) this.host.onTruncated(state.partition, offset);
    state.fetchOffset = log.logEndOffset;
    // With OffsetForLeaderEpoch-only truncation, an incomplete step asks again.
    state.truncating = !completed && !this.host.switches.fetchEpochFencing;
  }
}
