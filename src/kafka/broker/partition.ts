import { Errors, type ErrorCode } from '../protocol/errors.js';
import {
  NO_LEADER_EPOCH,
  UNDEFINED_EPOCH,
  UNDEFINED_EPOCH_OFFSET,
  type AlterPartitionItem,
  type AlterPartitionItemResponse,
  type EpochEndOffset,
  type FetchPartition,
  type FetchPartitionResponse,
  type PartitionRegistration,
  type BrokerRegistration,
} from '../protocol/messages.js';
import type { RecordBatch } from '../protocol/records.js';
import type { ProtocolSwitches } from '../protocol/switches.js';
import { committed, isInflight, maximalIsr, proposedIsr, type IsrState } from './isr-state.js';
import type { UnifiedLog } from './log/unified-log.js';
import type { LeaderAppendResult } from './log/types.js';
import { Replica } from './replica.js';

/** What a partition needs from its broker: identity, config, and the metadata cache. */
export interface PartitionContext {
  readonly brokerId: number;
  readonly switches: ProtocolSwitches;
  /** `replica.lag.time.max.ms`. */
  readonly replicaLagTimeMaxMs: number;
  /** This broker's current broker epoch. */
  brokerEpoch(): number;
  /** The metadata cache's view of a broker, or undefined if it is not registered. */
  brokerRegistration(brokerId: number): BrokerRegistration | undefined;
}

/** This broker leads the partition in `leaderEpoch`. */
class LeaderRole {
  readonly kind = 'leader';
  constructor(
    readonly leaderEpoch: number,
    /** The LEO when this epoch began: followers must reach it to join the ISR. */
    readonly epochStartOffset: number,
    readonly remotes: Map<number, Replica>,
    public isrState: IsrState,
  ) {}
}

/** This broker follows `leaderId` (-1: no leader) in `leaderEpoch`. */
class FollowerRole {
  readonly kind = 'follower';
  constructor(
    readonly leaderEpoch: number,
    readonly leaderId: number,
  ) {}
}

export type ReplicaRole = LeaderRole | FollowerRole;

export type ProduceAppend = LeaderAppendResult;

/**
 * One replica of a partition on this broker (core/src/main/scala/kafka/cluster/Partition.scala):
 * its log, its role as the controller decided it, and, as leader, the ISR, the high watermark
 * and its followers' progress. A role change replaces the role object.
 */
export class Partition {
  replicas: readonly number[] = [];
  partitionEpoch = -1;
  role: ReplicaRole = new FollowerRole(-1, -1);

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: UnifiedLog,
    private readonly ctx: PartitionContext,
  ) {}

  get key(): string {
    return `${this.topic}-${this.partition}`;
  }

  get leaderEpoch(): number {
    return this.role.leaderEpoch;
  }

  get isLeader(): boolean {
    return this.role.kind === 'leader';
  }

  /** The committed ISR as this leader knows it, or [] on a follower (Kafka clears it). */
  get isr(): readonly number[] {
    return this.role.kind === 'leader' ? this.role.isrState.isr : [];
  }

  get maximalIsr(): readonly number[] {
    return this.role.kind === 'leader' ? maximalIsr(this.role.isrState) : [];
  }

  get isrState(): IsrState | undefined {
    return this.role.kind === 'leader' ? this.role.isrState : undefined;
  }

  /** min(min.insync.replicas, replication factor): Partition.effectiveMinIsr. */
  get effectiveMinIsr(): number {
    return Math.min(this.log.config.minInsyncReplicas, Math.max(1, this.replicas.length));
  }

  // ------------------------------------------------------------ role changes

  /**
   * Partition.makeLeader. Ignores a state older than the one applied. In a new leader epoch the
   * leader records the epoch at its LEO before appending anything (KAFKA-7415; not before
   * KIP-279) and forgets its followers' positions, so the HW waits for each to fetch once.
   * Returns true when this is a new leader epoch.
   */
  makeLeader(reg: PartitionRegistration, nowMs: number): boolean {
    if (reg.partitionEpoch < this.partitionEpoch) return false;
    const previous = this.role;
    const isNewEpoch = reg.leaderEpoch > previous.leaderEpoch || previous.kind !== 'leader';
    this.replicas = reg.replicas;
    this.partitionEpoch = reg.partitionEpoch;
    if (!isNewEpoch && previous.kind === 'leader') {
      // Same epoch, new partition epoch: an ISR change the controller committed.
      previous.isrState = committed(reg.isr);
      for (const id of reg.replicas) if (id !== this.ctx.brokerId && !previous.remotes.has(id)) previous.remotes.set(id, new Replica(id));
      this.maybeIncrementLeaderHW(nowMs);
      return false;
    }
    if (this.ctx.switches.epochEndOffsetLookup) this.log.assignEpochStartOffset(reg.leaderEpoch, this.log.logEndOffset);
    const epochStartOffset = this.log.logEndOffset;
    const remotes = new Map<number, Replica>();
    const wasLeader = previous.kind === 'leader';
    for (const id of reg.replicas) {
      if (id === this.ctx.brokerId) continue;
      const replica = (wasLeader ? previous.remotes.get(id) : undefined) ?? new Replica(id);
      replica.reset(nowMs, epochStartOffset, wasLeader, reg.isr.includes(id));
      remotes.set(id, replica);
    }
    this.role = new LeaderRole(reg.leaderEpoch, epochStartOffset, remotes, committed(reg.isr));
    this.maybeIncrementLeaderHW(nowMs);
    return true;
  }

  /**
   * Partition.makeFollower. Returns true when the leader epoch changed, so the fetcher must
   * restart (KAFKA-7164). Before KIP-101 a replica truncated its log to its high watermark
   * whenever it became a follower; with it, truncation is the fetcher's job, by epoch.
   */
  makeFollower(reg: PartitionRegistration): boolean {
    if (reg.partitionEpoch < this.partitionEpoch) return false;
    const previous = this.role;
    const isNewEpoch = reg.leaderEpoch > previous.leaderEpoch || previous.kind !== 'follower' || previous.leaderId !== reg.leader;
    this.replicas = reg.replicas;
    this.partitionEpoch = reg.partitionEpoch;
    this.role = new FollowerRole(reg.leaderEpoch, reg.leader);
    if (isNewEpoch && !this.ctx.switches.leaderEpochTruncation) this.log.truncateTo(this.log.highWatermark);
    return isNewEpoch;
  }

  // ------------------------------------------------------------ produce

  /**
   * Partition.appendRecordsToLeader. With acks=all the committed ISR must reach the effective
   * min ISR before anything is written (KAFKA-1555); acks 0 and 1 are appended regardless, and
   * wait for the HW like everything else.
   */
  appendRecordsToLeader(batch: RecordBatch, acks: number, nowMs: number): ProduceAppend {
    const role = this.role;
    if (role.kind !== 'leader') return { ok: false, error: Errors.NOT_LEADER_OR_FOLLOWER };
    if (this.ctx.switches.minIsrGuard && acks === -1 && role.isrState.isr.length < this.effectiveMinIsr) {
      return { ok: false, error: Errors.NOT_ENOUGH_REPLICAS };
    }
    const result = this.log.appendAsLeader(batch, role.leaderEpoch, nowMs);
    if (result.ok) this.maybeIncrementLeaderHW(nowMs);
    return result;
  }

  /**
   * Partition.checkEnoughReplicasReachOffset, for a waiting acks=all produce: done once the HW
   * passes the batch; an error if the maximal ISR fell below min ISR meanwhile.
   */
  checkEnoughReplicasReachOffset(requiredOffset: number): { done: boolean; error: ErrorCode } {
    const role = this.role;
    if (role.kind !== 'leader') return { done: true, error: Errors.NOT_LEADER_OR_FOLLOWER };
    if (this.log.highWatermark < requiredOffset) return { done: false, error: Errors.NONE };
    if (this.ctx.switches.minIsrGuard && maximalIsr(role.isrState).length < this.effectiveMinIsr) {
      return { done: true, error: Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND };
    }
    return { done: true, error: Errors.NONE };
  }

  // ------------------------------------------------------------ fetch

  /**
   * Partition.checkCurrentLeaderEpoch (KIP-320): a request from an older epoch is fenced, one
   * from a newer epoch than this broker knows is told to wait. Without KIP-320, requests carry
   * no epoch and only leadership is checked.
   */
  checkCurrentLeaderEpoch(currentLeaderEpoch: number): ErrorCode {
    if (!this.ctx.switches.fetchEpochFencing || currentLeaderEpoch === NO_LEADER_EPOCH) return Errors.NONE;
    if (currentLeaderEpoch < this.role.leaderEpoch) return Errors.FENCED_LEADER_EPOCH;
    if (currentLeaderEpoch > this.role.leaderEpoch) return Errors.UNKNOWN_LEADER_EPOCH;
    return Errors.NONE;
  }

  /**
   * The leader's answer to "where does epoch E end?" (OffsetForLeaderEpoch, and the check behind
   * DivergingEpoch). Before KIP-279 the leader answered only an offset, and UNDEFINED when it did
   * not know the epoch.
   */
  lastOffsetForLeaderEpoch(epoch: number): EpochEndOffset {
    if (!this.ctx.switches.epochEndOffsetLookup) return this.log.epochCache.endOffsetForPreKip279(epoch, this.log.logEndOffset);
    return this.log.endOffsetForEpoch(epoch);
  }

  /**
   * A follower's Fetch, on the leader (Partition.fetchRecords with FetchIsolation.LOG_END).
   * Returns the response and whether the HW moved (to complete waiting produce requests).
   */
  fetchFromFollower(replicaId: number, replicaEpoch: number, req: FetchPartition, nowMs: number): { response: FetchPartitionResponse; hwChanged: boolean; alter?: AlterPartitionItem } {
    const role = this.role;
    const fail = (error: ErrorCode) => ({ response: this.errorResponse(error), hwChanged: false });
    // Partition.getLocalLog: the epoch first, then leadership.
    const epochError = this.checkCurrentLeaderEpoch(req.currentLeaderEpoch);
    if (epochError !== Errors.NONE) return fail(epochError);
    if (role.kind !== 'leader') return fail(Errors.NOT_LEADER_OR_FOLLOWER);
    const replica = role.remotes.get(replicaId);
    if (replica === undefined) return fail(req.currentLeaderEpoch !== NO_LEADER_EPOCH && this.ctx.switches.fetchEpochFencing ? Errors.UNKNOWN_LEADER_EPOCH : Errors.NOT_LEADER_OR_FOLLOWER);
    const hwBefore = this.log.highWatermark;
    const leoBefore = this.log.logEndOffset;
    if (req.lastFetchedEpoch !== NO_LEADER_EPOCH) {
      // Truncation on fetch (KIP-595, AbstractFetcherThread since 2.7): tell the follower where
      // its last epoch ends here, if its log diverges.
      const end = this.lastOffsetForLeaderEpoch(req.lastFetchedEpoch);
      if (end.endOffset === UNDEFINED_EPOCH_OFFSET || end.epoch === UNDEFINED_EPOCH) return fail(Errors.OFFSET_OUT_OF_RANGE);
      if (req.fetchOffset < this.log.logStartOffset) return fail(Errors.OFFSET_OUT_OF_RANGE);
      if (end.epoch < req.lastFetchedEpoch || end.endOffset < req.fetchOffset) {
        return { response: { ...this.emptyResponse(hwBefore), divergingEpoch: { epoch: end.epoch, endOffset: end.endOffset } }, hwChanged: false };
      }
    }
    const read = this.log.read(req.fetchOffset, leoBefore, req.partitionMaxBytes);
    if (!read.ok) return fail(read.error);
    const epochForFencing = this.ctx.switches.brokerEpochFencing ? replicaEpoch : -1;
    const registered = this.ctx.brokerRegistration(replicaId);
    if (!replica.updateFetchState(req.fetchOffset, req.logStartOffset, nowMs, leoBefore, epochForFencing, registered === undefined || registered.fenced ? undefined : registered.brokerEpoch)) {
      return fail(Errors.NOT_LEADER_OR_FOLLOWER);
    }
    const alter = this.maybeExpandIsr(replica);
    const hwChanged = this.maybeIncrementLeaderHW(nowMs);
    return { response: { ...this.emptyResponse(hwBefore), batches: read.batches }, hwChanged, alter };
  }

  /** A consumer's Fetch: up to the high watermark (read_uncommitted). */
  fetchFromConsumer(req: FetchPartition): FetchPartitionResponse {
    const epochError = this.checkCurrentLeaderEpoch(req.currentLeaderEpoch);
    if (epochError !== Errors.NONE) return this.errorResponse(epochError);
    if (this.role.kind !== 'leader') return this.errorResponse(Errors.NOT_LEADER_OR_FOLLOWER);
    const hw = this.log.highWatermark;
    const read = this.log.read(req.fetchOffset, hw, req.partitionMaxBytes);
    if (!read.ok) return this.errorResponse(read.error);
    return { ...this.emptyResponse(hw), batches: read.batches };
  }

  // ------------------------------------------------------------ ISR and high watermark

  /**
   * Partition.isReplicaIsrEligible (KIP-841, KIP-903): a follower may join the ISR only if its
   * broker is registered, unfenced, not shutting down, and the broker epoch of its last fetch is
   * the registered one.
   */
  isReplicaIsrEligible(replica: Replica): boolean {
    const reg = this.ctx.brokerRegistration(replica.brokerId);
    if (reg === undefined || reg.fenced || reg.inControlledShutdown) return false;
    if (!this.ctx.switches.brokerEpochFencing) return true;
    return replica.brokerEpoch !== undefined && (replica.brokerEpoch === -1 || replica.brokerEpoch === reg.brokerEpoch);
  }

  /**
   * Partition.maybeExpandIsr, after a follower's fetch: it joins once its LEO reaches the HW and
   * the start of the current leader epoch (so a new leader cannot admit a follower lacking data
   * from before its epoch). Time is not considered. Returns the AlterPartition to send.
   */
  private maybeExpandIsr(replica: Replica): AlterPartitionItem | undefined {
    const role = this.role;
    if (role.kind !== 'leader' || isInflight(role.isrState) || role.isrState.isr.includes(replica.brokerId)) return undefined;
    if (!this.isReplicaIsrEligible(replica)) return undefined;
    if (replica.logEndOffset < this.log.highWatermark || replica.logEndOffset < role.epochStartOffset) return undefined;
    const isr = role.isrState.isr;
    role.isrState = { kind: 'pending-expand', isr, maximalIsr: [...isr, replica.brokerId], newInSync: replica.brokerId };
    return this.alterPartitionItem(role);
  }

  /**
   * Partition.maybeShrinkIsr, every replica.lag.time.max.ms / 2: drops followers that are not
   * at the leader's end and have not caught up within replica.lag.time.max.ms. No min-ISR floor.
   */
  maybeShrinkIsr(nowMs: number): AlterPartitionItem | undefined {
    const role = this.role;
    if (role.kind !== 'leader' || isInflight(role.isrState)) return undefined;
    const leo = this.log.logEndOffset;
    const outOfSync = role.isrState.isr.filter((id) => {
      if (id === this.ctx.brokerId) return false;
      const replica = role.remotes.get(id);
      return replica === undefined || !replica.isCaughtUp(leo, nowMs, this.ctx.replicaLagTimeMaxMs);
    });
    if (outOfSync.length === 0) return undefined;
    role.isrState = { kind: 'pending-shrink', isr: role.isrState.isr, maximalIsr: role.isrState.isr, outOfSync };
    return this.alterPartitionItem(role);
  }

  /** Partition.isUnderMinIsr: the committed ISR is below the effective min ISR. */
  isUnderMinIsr(): boolean {
    return this.role.kind === 'leader' && this.role.isrState.isr.length < this.effectiveMinIsr;
  }

  /**
   * Partition.maybeIncrementLeaderHW: the HW is the least LEO among the leader, the maximal
   * ISR, and any caught-up, eligible follower about to join it. It never moves while the ISR is
   * below min ISR (KIP-966 part 1), for any acks. Returns whether it moved.
   */
  maybeIncrementLeaderHW(nowMs: number): boolean {
    const role = this.role;
    if (role.kind !== 'leader') return false;
    if (this.ctx.switches.minIsrGuard && this.isUnderMinIsr()) return false;
    const leo = this.log.logEndOffset;
    let hw = leo;
    const maximal = maximalIsr(role.isrState);
    for (const replica of role.remotes.values()) {
      if (replica.logEndOffset >= hw) continue;
      const counts = maximal.includes(replica.brokerId) || (replica.isCaughtUp(leo, nowMs, this.ctx.replicaLagTimeMaxMs) && this.isReplicaIsrEligible(replica));
      if (counts) hw = replica.logEndOffset;
    }
    return hw >= 0 && this.log.maybeIncrementHighWatermark(hw);
  }

  // ------------------------------------------------------------ AlterPartition

  /** The pending state each AlterPartition proposed: a reply to an older proposal is stale. */
  private readonly proposedStates = new WeakMap<AlterPartitionItem, IsrState>();

  private alterPartitionItem(role: LeaderRole): AlterPartitionItem {
    const isr = proposedIsr(role.isrState);
    const item: AlterPartitionItem = {
      topic: this.topic,
      partition: this.partition,
      leaderEpoch: role.leaderEpoch,
      partitionEpoch: this.partitionEpoch,
      newIsrWithEpochs: isr.map((brokerId) => ({
        brokerId,
        brokerEpoch: !this.ctx.switches.brokerEpochFencing ? -1 : brokerId === this.ctx.brokerId ? this.ctx.brokerEpoch() : (role.remotes.get(brokerId)?.brokerEpoch ?? -1),
      })),
    };
    this.proposedStates.set(item, role.isrState);
    return item;
  }

  /**
   * Partition.submitAlterPartition's response handling. Returns 'retry' when the request
   * should be sent again, 'done' otherwise.
   */
  onAlterPartitionResponse(sent: AlterPartitionItem, response: AlterPartitionItemResponse, nowMs: number): 'done' | 'retry' {
    const role = this.role;
    // Partition.submitAlterPartition: ignore the answer if the state moved on since we proposed.
    if (role.kind !== 'leader' || role.leaderEpoch !== sent.leaderEpoch || !isInflight(role.isrState) || role.isrState !== this.proposedStates.get(sent)) return 'done';
    switch (response.error) {
      case Errors.NONE:
        if (response.leaderEpoch !== role.leaderEpoch || response.partitionEpoch < this.partitionEpoch) return 'done';
        role.isrState = committed(response.isr);
        this.partitionEpoch = response.partitionEpoch;
        this.maybeIncrementLeaderHW(nowMs);
        return 'done';
      case Errors.OPERATION_NOT_ATTEMPTED:
      case Errors.INELIGIBLE_REPLICA:
        role.isrState = committed(role.isrState.isr);
        return 'done';
      case Errors.UNKNOWN_TOPIC_OR_PARTITION:
      case Errors.INVALID_REQUEST:
      case Errors.FENCED_LEADER_EPOCH:
      case Errors.INVALID_UPDATE_VERSION:
      case Errors.NEW_LEADER_ELECTED:
        // Stay pending until the metadata that explains the refusal arrives.
        return 'done';
      default:
        return 'retry';
    }
  }

  /** The AlterPartition to resend for the change in flight, if any. */
  pendingAlterPartition(): AlterPartitionItem | undefined {
    const role = this.role;
    return role.kind === 'leader' && isInflight(role.isrState) ? this.alterPartitionItem(role) : undefined;
  }

  // ------------------------------------------------------------ responses

  private emptyResponse(highWatermark: number): FetchPartitionResponse {
    return { topic: this.topic, partition: this.partition, error: Errors.NONE, highWatermark, logStartOffset: this.log.logStartOffset, batches: [] };
  }

  private errorResponse(error: ErrorCode): FetchPartitionResponse {
    return { topic: this.topic, partition: this.partition, error, highWatermark: -1, logStartOffset: -1, batches: [] };
  }
}
