/**
 * Group membership and offset commits of the classic consumer (apache/kafka clients/src/main/
 * java/org/apache/kafka/clients/consumer/internals/AbstractCoordinator.java, ConsumerCoordinator.java
 * and Heartbeat.java), as a sans-IO state machine.
 *
 * Kafka runs this code on two threads, and the model keeps the split:
 * - the application thread, inside `KafkaConsumer.poll()`: `poll()` here (ConsumerCoordinator.poll)
 *   finds the coordinator, runs onJoinPrepare (revocation), sends JoinGroup, and runs onJoinComplete
 *   (assignment) once the SyncGroup answer is in; it also triggers auto-commits. None of that
 *   happens while the application is busy processing records;
 * - the heartbeat thread (AbstractCoordinator.HeartbeatThread, KIP-62): `heartbeatStep()`, run on
 *   every event whatever the application does. It heartbeats every heartbeat.interval.ms, marks the
 *   coordinator unknown when no heartbeat succeeded for session.timeout.ms, and when poll() has not
 *   been called for max.poll.interval.ms it sends LeaveGroup and resets the generation.
 * Responses are handled when they arrive (Kafka's heartbeat thread polls the network client too), so
 * a JoinGroup answer moves the member to COMPLETING_REBALANCE and the leader's assignment and
 * SyncGroup go out at once; only onJoinComplete waits for the application's next poll.
 */
import { Errors, errorName, isRetriable, type ErrorCode } from '../../protocol/errors.js';
import {
  CONSUMER_PROTOCOL_TYPE,
  COORDINATOR_TYPE_GROUP,
  DEFAULT_RETENTION_TIME,
  INVALID_OFFSET,
  NO_COMMITTED_LEADER_EPOCH,
  UNKNOWN_GENERATION_ID,
  UNKNOWN_MEMBER_ID,
  groupWireSize,
  type ConsumerProtocolAssignment,
  type FindCoordinatorResponse,
  type HeartbeatResponse,
  type JoinGroupResponse,
  type OffsetCommitResponse,
  type OffsetFetchResponse,
  type SyncGroupResponse,
} from '../../protocol/group-messages.js';
import { tpKey, type TopicPartition } from '../../protocol/topic-partition.js';
import type { NetworkClient } from '../network-client.js';
import type { ProducerMetadata } from '../producer/producer-metadata.js';
import { assign } from './assignors/assign.js';
import type { AssignmentStrategy, AssignorMember } from './assignors/types.js';
import { rebalanceProtocol, type ConsumerConfig, type RebalanceProtocol } from './consumer-config.js';
import { sortTps, type SubscriptionState } from './subscription-state.js';

/** AbstractCoordinator.MemberState. */
export type MemberState = 'UNJOINED' | 'PREPARING_REBALANCE' | 'COMPLETING_REBALANCE' | 'STABLE';

/** AbstractCoordinator.Generation. */
export interface Generation {
  readonly generationId: number;
  readonly memberId: string;
  readonly protocolName: string | null;
}

export const NO_GENERATION: Generation = Object.freeze({ generationId: UNKNOWN_GENERATION_ID, memberId: UNKNOWN_MEMBER_ID, protocolName: null });

/** AbstractCoordinator.JOIN_GROUP_TIMEOUT_LAPSE: the JoinGroup request waits the rebalance timeout plus this. */
export const JOIN_GROUP_TIMEOUT_LAPSE_MS = 5000;

/** An offset to commit, with the leader epoch of the record before it (KIP-320). */
export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly leaderEpoch: number | null;
}

/** A failed request, as Kafka's exception: a name, and whether it is a RetriableException. */
export interface CoordinatorFailure {
  readonly error: string;
  readonly retriable: boolean;
}

export type CommitKind = 'auto' | 'sync' | 'async' | 'close' | 'join-prepare';

/** The user's ConsumerRebalanceListener. Callbacks run synchronously on the application thread. */
export interface ConsumerRebalanceListener {
  onPartitionsRevoked?(partitions: readonly TopicPartition[]): void;
  onPartitionsAssigned?(partitions: readonly TopicPartition[]): void;
  /** Kafka's default implementation calls onPartitionsRevoked. */
  onPartitionsLost?(partitions: readonly TopicPartition[]): void;
}

/** What the coordinator needs from the consumer it lives in. */
export interface CoordinatorHost {
  nowMs(): number;
  readonly network: NetworkClient;
  readonly metadata: ProducerMetadata;
  readonly subscriptions: SubscriptionState;
  /** Brokers to pick the least-loaded one from (bootstrap and metadata). */
  brokers(): readonly number[];
  /** Records a history entry (the consumer adds its name and group). */
  record(entry: { type: string } & Record<string, unknown>): void;
  retryBackoffMs(attempts: number): number;
  /** The rebalance callbacks; the host records them and calls the user's listener. */
  invokeCallback(callback: 'onPartitionsRevoked' | 'onPartitionsAssigned' | 'onPartitionsLost', partitions: TopicPartition[]): void;
  /** The assignment changed (history). */
  assignmentChanged(reason: string): void;
}

type JoinFuture = { status: 'pending' } | { status: 'ok'; assignment: readonly TopicPartition[] } | { status: 'failed'; failure: CoordinatorFailure };

interface PendingCommit {
  readonly id: number;
  readonly kind: CommitKind;
  readonly offsets: readonly OffsetToCommit[];
  readonly onDone: (failure: CoordinatorFailure | null) => void;
}

export class ConsumerCoordinator {
  readonly protocol: RebalanceProtocol;
  state: MemberState = 'UNJOINED';
  generation: Generation = NO_GENERATION;
  coordinator: number | null = null;
  isLeader = false;
  /** A fatal error to throw from the next poll() (FENCED_INSTANCE_ID, INCONSISTENT_GROUP_PROTOCOL, ...). */
  fatalError: string | null = null;
  closed = false;

  private rejoinNeeded = true;
  private needsJoinPrepare = true;
  private joinFuture: JoinFuture | null = null;
  private joinRetryAtMs = 0;
  private joinedSubscription: readonly string[] = [];
  private findCoordinatorInFlight = false;
  private findCoordinatorAttempts = 0;
  private findCoordinatorRetryAtMs = 0;
  /** The leader's JoinGroup answer, waiting for fresh metadata before assigning (updateGroupSubscription). */
  private pendingLeaderJoin: { response: JoinGroupResponse; metadataVersion: number } | null = null;

  // Heartbeat.java
  private heartbeatEnabled = false;
  private heartbeatFailed: string | null = null;
  private heartbeatDueMs = 0;
  private sessionDeadlineMs = Infinity;
  private pollDeadlineMs = Infinity;
  private heartbeatAttempts = 0;

  // onJoinPrepare's auto-commit (Kafka 3.3+: asynchronous, waited for up to the rebalance timeout)
  private joinPrepareCommit: { done: boolean; failure: CoordinatorFailure | null } | null = null;
  private joinPrepareDeadlineMs: number | null = null;
  private joinPrepareRetryAtMs = 0;

  nextAutoCommitMs: number;
  private nextCommitId = 1;
  private readonly groupId: string;

  constructor(
    private readonly config: ConsumerConfig,
    private readonly host: CoordinatorHost,
  ) {
    this.groupId = config['group.id'] ?? '';
    this.protocol = rebalanceProtocol(config['partition.assignment.strategy']);
    this.nextAutoCommitMs = host.nowMs() + config['auto.commit.interval.ms'];
  }

  private get rebalanceTimeoutMs(): number {
    return this.config['max.poll.interval.ms'];
  }

  private get autoCommitEnabled(): boolean {
    return this.config['enable.auto.commit'];
  }

  get isDynamicMember(): boolean {
    return this.config['group.instance.id'] === null;
  }

  /** AbstractCoordinator.generationIfStable. */
  generationIfStable(): Generation | null {
    return this.state === 'STABLE' ? this.generation : null;
  }

  rebalanceInProgress(): boolean {
    return this.state === 'PREPARING_REBALANCE' || this.state === 'COMPLETING_REBALANCE';
  }

  coordinatorUnknown(): boolean {
    return this.coordinator === null;
  }

  /** ConsumerCoordinator.rejoinNeededOrPending: also when the subscription changed since the last join. */
  rejoinNeededOrPending(): boolean {
    if (!this.host.subscriptions.partitionsAutoAssigned) return false;
    if (this.joinedSubscription.join(',') !== this.host.subscriptions.subscription().join(',') && this.state !== 'UNJOINED') {
      this.requestRejoin('subscription changed');
    }
    return this.rejoinNeeded || this.joinFuture !== null;
  }

  requestRejoin(reason: string): void {
    if (!this.rejoinNeeded) this.host.record({ type: 'rejoin-requested', reason, generation: this.generation.generationId, memberId: this.generation.memberId });
    this.rejoinNeeded = true;
  }

  // ------------------------------------------------------------ application thread

  /**
   * ConsumerCoordinator.poll(timer, waitForJoinGroup = false), on the application thread. Returns
   * true when the group is active (or not used) and auto-commit had its chance.
   */
  poll(nowMs: number): boolean {
    if (this.heartbeatFailed !== null) {
      // AbstractCoordinator.pollHeartbeat rethrows the heartbeat thread's failure.
      this.fatalError = this.heartbeatFailed;
      return false;
    }
    if (this.host.subscriptions.partitionsAutoAssigned) {
      // Heartbeat.poll: always, so the heartbeat thread does not leave while the coordinator is unknown.
      this.pollDeadlineMs = nowMs + this.config['max.poll.interval.ms'];
      if (this.coordinatorUnknown()) {
        this.lookupCoordinator(nowMs);
        return false;
      }
      if (this.rejoinNeededOrPending() && !this.joinGroupIfNeeded(nowMs)) return false;
    }
    this.maybeAutoCommitOffsetsAsync(nowMs);
    return true;
  }

  /**
   * AbstractCoordinator.joinGroupIfNeeded, without blocking: makes what progress it can and
   * returns true once the member is STABLE with its assignment applied.
   */
  private joinGroupIfNeeded(nowMs: number): boolean {
    for (let guard = 0; guard < 100 && this.rejoinNeededOrPending(); guard++) {
      if (this.fatalError !== null) return false;
      if (this.coordinatorUnknown()) {
        this.lookupCoordinator(nowMs);
        return false;
      }
      if (this.needsJoinPrepare) {
        this.needsJoinPrepare = false;
        if (!this.onJoinPrepare(nowMs)) {
          this.needsJoinPrepare = true;
          return false;
        }
      }
      if (this.joinFuture === null) {
        if (nowMs < this.joinRetryAtMs) return false;
        this.initiateJoinGroup();
      }
      const future: JoinFuture | null = this.joinFuture;
      if (future === null || future.status === 'pending') return false;
      this.joinFuture = null;
      if (future.status === 'ok') {
        if (!(this.generation.generationId === UNKNOWN_GENERATION_ID && this.generation.protocolName === null) && this.state === 'STABLE') {
          this.onJoinComplete(nowMs, future.assignment);
          this.needsJoinPrepare = true;
        } else {
          this.resetStateAndRejoin(`rebalance failed since the generation/state was modified by heartbeat thread to ${this.generation.generationId}/${this.state} before the rebalance callback triggered`, true);
        }
        continue;
      }
      const { failure } = future;
      if (failure.error !== 'MEMBER_ID_REQUIRED') this.requestRejoin(`rebalance failed due to ${failure.error}`);
      if (['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'MEMBER_ID_REQUIRED'].includes(failure.error)) continue;
      if (!failure.retriable) {
        this.fatalError = failure.error;
        return false;
      }
      this.joinRetryAtMs = nowMs + this.config['retry.backoff.ms'];
      return false;
    }
    return !this.rejoinNeededOrPending();
  }

  /**
   * ConsumerCoordinator.onJoinPrepare (Kafka 3.3+): with auto-commit, commit what was consumed and
   * wait for the answer (retrying retriable failures) up to the rebalance timeout; then revoke:
   * everything as lost when the generation was reset, everything (EAGER) or only the partitions of
   * topics no longer subscribed (COOPERATIVE) otherwise.
   */
  private onJoinPrepare(nowMs: number): boolean {
    if (this.joinPrepareDeadlineMs === null) this.joinPrepareDeadlineMs = nowMs + this.rebalanceTimeoutMs;
    if (this.autoCommitEnabled && this.joinPrepareCommit === null && this.generation.generationId !== UNKNOWN_GENERATION_ID) {
      if (nowMs < this.joinPrepareRetryAtMs) return false;
      const commit: { done: boolean; failure: CoordinatorFailure | null } = { done: false, failure: null };
      this.joinPrepareCommit = commit;
      this.commitOffsetsAsync(this.host.subscriptions.allConsumed(), 'join-prepare', (failure) => {
        commit.done = true;
        commit.failure = failure;
      });
    }
    const commit = this.joinPrepareCommit;
    if (commit !== null) {
      let completed = true;
      if (nowMs >= this.joinPrepareDeadlineMs) {
        // "Asynchronous auto-commit of offsets failed: joinPrepare timeout. Will continue to join group"
      } else if (!commit.done) {
        completed = false;
      } else if (commit.failure !== null && commit.failure.retriable) {
        completed = false;
      }
      if (commit.done || nowMs >= this.joinPrepareDeadlineMs) this.joinPrepareCommit = null;
      if (!completed) {
        if (commit.done) this.joinPrepareRetryAtMs = nowMs + this.config['retry.backoff.ms'];
        return false;
      }
    }
    const subs = this.host.subscriptions;
    const owned = subs.assignedPartitions();
    if (this.generation.generationId === UNKNOWN_GENERATION_ID || this.generation.memberId === UNKNOWN_MEMBER_ID) {
      if (owned.length > 0) {
        // "Giving away all assigned partitions as lost since generation/memberID has been reset"
        this.host.invokeCallback('onPartitionsLost', owned);
        subs.assignFromSubscribed([]);
        this.host.assignmentChanged('lost');
      }
    } else if (this.protocol === 'EAGER') {
      this.host.invokeCallback('onPartitionsRevoked', owned);
      subs.assignFromSubscribed([]);
      if (owned.length > 0) this.host.assignmentChanged('revoked');
    } else {
      const subscribed = subs.subscription();
      const revoked = owned.filter((tp) => !subscribed.includes(tp.topic));
      if (revoked.length > 0) {
        this.host.invokeCallback('onPartitionsRevoked', revoked);
        subs.assignFromSubscribed(owned.filter((tp) => subscribed.includes(tp.topic)));
        this.host.assignmentChanged('revoked');
      }
    }
    this.isLeader = false;
    this.joinPrepareDeadlineMs = null;
    this.joinPrepareCommit = null;
    return true;
  }

  /** AbstractCoordinator.initiateJoinGroup / sendJoinGroupRequest. */
  private initiateJoinGroup(): void {
    const coordinator = this.coordinator;
    if (coordinator === null) return;
    this.state = 'PREPARING_REBALANCE';
    this.heartbeatEnabled = false;
    const future: JoinFuture = { status: 'pending' };
    this.joinFuture = future;
    const sentGeneration = this.generation;
    this.joinedSubscription = [...this.host.subscriptions.subscription()];
    const owned = this.host.subscriptions.assignedPartitions();
    // ConsumerCoordinator.metadata: one protocol per assignor, in the configured order, each with
    // the subscription, the owned partitions and their generation (ConsumerProtocolSubscription v3).
    const protocols = this.config['partition.assignment.strategy'].map((name) => ({
      name,
      metadata: { topics: this.joinedSubscription, ownedPartitions: owned, generationId: this.generation.generationId, rackId: null },
    }));
    this.host.record({ type: 'join-group', phase: 'invoke', memberId: this.generation.memberId, generation: this.generation.generationId });
    this.host.network.send(
      coordinator,
      {
        type: 'JoinGroupRequest',
        correlationId: 0,
        // ConsumerConfig: an empty client.id becomes "consumer-<group.id>-<n>", n counting the
        // consumers of the JVM from 1; each simulated consumer is its own process.
        clientId: this.config['client.id'] !== '' ? this.config['client.id'] : `consumer-${this.config['group.id'] ?? ''}-1`,
        clientHost: '/127.0.0.1',
        groupId: this.groupId,
        sessionTimeoutMs: this.config['session.timeout.ms'],
        rebalanceTimeoutMs: this.rebalanceTimeoutMs,
        memberId: this.generation.memberId,
        groupInstanceId: this.config['group.instance.id'],
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocols,
        reason: null,
        sizeBytes: groupWireSize(protocols.length + owned.length),
      },
      (r) => this.handleJoinGroupResponse(r as JoinGroupResponse, sentGeneration, future),
      () => this.failOnDisconnect(future),
      // "we override the request timeout using the rebalance timeout since that is the maximum time
      // that it may block on the coordinator"
      Math.max(this.config['request.timeout.ms'], this.rebalanceTimeoutMs + JOIN_GROUP_TIMEOUT_LAPSE_MS),
    );
  }

  private failOnDisconnect(future: JoinFuture): void {
    // CoordinatorResponseHandler.onFailure: a DisconnectException marks the coordinator dead.
    this.markCoordinatorUnknown(true, 'disconnected');
    this.completeJoin(future, { status: 'failed', failure: { error: 'DisconnectException', retriable: true } });
  }

  private completeJoin(future: JoinFuture, result: JoinFuture): void {
    if (this.joinFuture === future) this.joinFuture = result;
  }

  /** AbstractCoordinator.JoinGroupResponseHandler. */
  private handleJoinGroupResponse(r: JoinGroupResponse, sentGeneration: Generation, future: JoinFuture): void {
    const fail = (error: string, retriable: boolean) => this.completeJoin(future, { status: 'failed', failure: { error, retriable } });
    const error = r.error;
    this.host.record({ type: 'join-group', phase: error === Errors.NONE ? 'ok' : 'fail', memberId: r.memberId, generation: r.generationId, error: error === Errors.NONE ? undefined : errorName(error), leader: r.leader === r.memberId && error === Errors.NONE, protocol: r.protocolName });
    if (this.joinFuture !== future) return;
    if (error === Errors.NONE) {
      if (this.state !== 'PREPARING_REBALANCE') {
        // The member left meanwhile (poll timeout): UnjoinedGroupException.
        fail('UnjoinedGroupException', true);
        return;
      }
      this.state = 'COMPLETING_REBALANCE';
      this.enableHeartbeat();
      this.generation = { generationId: r.generationId, memberId: r.memberId, protocolName: r.protocolName };
      if (r.leader === r.memberId) {
        this.isLeader = true;
        // ConsumerCoordinator.onLeaderElected → updateGroupSubscription: metadata must be fresh.
        this.host.metadata.requestUpdate();
        for (const m of r.members) for (const t of m.metadata.topics) this.host.metadata.add(t);
        this.pendingLeaderJoin = { response: r, metadataVersion: this.host.metadata.updateVersion };
        this.maybeCompleteLeaderAssignment(future);
      } else {
        this.sendSyncGroup([], future);
      }
    } else if (error === Errors.COORDINATOR_LOAD_IN_PROGRESS) {
      fail(errorName(error), true);
    } else if (error === Errors.UNKNOWN_MEMBER_ID) {
      if (sameGeneration(this.generation, sentGeneration)) this.resetStateOnResponseError('JOIN_GROUP', error, true);
      fail(errorName(error), false);
    } else if (error === Errors.COORDINATOR_NOT_AVAILABLE || error === Errors.NOT_COORDINATOR) {
      this.markCoordinatorUnknown(false, `error response ${errorName(error)}`);
      fail(errorName(error), true);
    } else if (error === Errors.MEMBER_ID_REQUIRED) {
      // "Broker requires a concrete member id to be allowed to join the group."
      this.generation = { generationId: UNKNOWN_GENERATION_ID, memberId: r.memberId, protocolName: null };
      this.requestRejoin(`need to re-join with the given member-id: ${r.memberId}`);
      fail('MEMBER_ID_REQUIRED', false);
    } else if (error === Errors.REBALANCE_IN_PROGRESS) {
      fail(errorName(error), false);
    } else {
      // FENCED_INSTANCE_ID, INCONSISTENT_GROUP_PROTOCOL, INVALID_SESSION_TIMEOUT, INVALID_GROUP_ID,
      // GROUP_MAX_SIZE_REACHED and anything unexpected are fatal.
      fail(errorName(error), false);
    }
  }

  /** Called on metadata updates: the leader's assignment waits for metadata fresher than its JoinGroup answer. */
  onMetadataUpdate(): void {
    const future = this.joinFuture;
    if (this.pendingLeaderJoin !== null && future !== null) this.maybeCompleteLeaderAssignment(future);
  }

  /** ConsumerCoordinator.onLeaderElected → performAssignment: runs the assignor and sends the leader's SyncGroup. */
  private maybeCompleteLeaderAssignment(future: JoinFuture): void {
    const pending = this.pendingLeaderJoin;
    if (pending === null) return;
    if (this.joinFuture !== future || this.state !== 'COMPLETING_REBALANCE') {
      this.pendingLeaderJoin = null;
      return;
    }
    if (this.host.metadata.updateVersion <= pending.metadataVersion) return;
    this.pendingLeaderJoin = null;
    const r = pending.response;
    if (r.skipAssignment) {
      // KIP-814: a static leader rejoining keeps the current assignment.
      this.sendSyncGroup([], future);
      return;
    }
    const strategy = r.protocolName as AssignmentStrategy;
    if (!this.config['partition.assignment.strategy'].includes(strategy)) {
      this.completeJoin(future, { status: 'failed', failure: { error: `IllegalStateException: Coordinator selected invalid assignment protocol: ${r.protocolName}`, retriable: false } });
      return;
    }
    const topics = new Set<string>();
    const members: AssignorMember[] = r.members.map((m) => {
      for (const t of m.metadata.topics) topics.add(t);
      const generation = m.metadata.generationId;
      return {
        memberId: m.memberId,
        ...(m.groupInstanceId !== null ? { groupInstanceId: m.groupInstanceId } : {}),
        topics: m.metadata.topics,
        owned: m.metadata.ownedPartitions ?? [],
        ...(generation !== undefined && generation >= 0 ? { generation } : {}),
      };
    });
    const partitionsPerTopic: Record<string, number> = {};
    for (const t of topics) partitionsPerTopic[t] = this.host.metadata.partitionsForTopic(t).length;
    const result = assign(strategy, members, partitionsPerTopic);
    this.host.record({ type: 'leader-assignment', generation: r.generationId, memberId: r.memberId, assignor: strategy, protocol: this.protocol, assignment: Object.fromEntries(Object.entries(result).map(([id, tps]) => [id, sortTps(tps)])) });
    this.sendSyncGroup(
      r.members.map((m) => ({ memberId: m.memberId, assignment: { partitions: result[m.memberId] ?? [] } as ConsumerProtocolAssignment })),
      future,
    );
  }

  private sendSyncGroup(assignments: { memberId: string; assignment: ConsumerProtocolAssignment }[], future: JoinFuture): void {
    const coordinator = this.coordinator;
    if (coordinator === null) {
      this.completeJoin(future, { status: 'failed', failure: { error: 'COORDINATOR_NOT_AVAILABLE', retriable: true } });
      return;
    }
    const sentGeneration = this.generation;
    this.host.network.send(
      coordinator,
      {
        type: 'SyncGroupRequest',
        correlationId: 0,
        groupId: this.groupId,
        generationId: sentGeneration.generationId,
        memberId: sentGeneration.memberId,
        groupInstanceId: this.config['group.instance.id'],
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocolName: sentGeneration.protocolName,
        assignments,
        sizeBytes: groupWireSize(1 + assignments.reduce((n, a) => n + a.assignment.partitions.length, 0)),
      },
      (r) => this.handleSyncGroupResponse(r as SyncGroupResponse, sentGeneration, future),
      () => this.failOnDisconnect(future),
    );
  }

  /** AbstractCoordinator.SyncGroupResponseHandler. */
  private handleSyncGroupResponse(r: SyncGroupResponse, sentGeneration: Generation, future: JoinFuture): void {
    const fail = (error: string, retriable: boolean) => this.completeJoin(future, { status: 'failed', failure: { error, retriable } });
    const error = r.error;
    if (this.joinFuture !== future) return;
    if (error === Errors.NONE) {
      const reset = this.generation.generationId === UNKNOWN_GENERATION_ID && this.generation.protocolName === null;
      if (!reset && this.state === 'COMPLETING_REBALANCE') {
        if (r.protocolName !== null && r.protocolName !== this.generation.protocolName) {
          fail('INCONSISTENT_GROUP_PROTOCOL', false);
          return;
        }
        this.state = 'STABLE';
        this.rejoinNeeded = false;
        this.completeJoin(future, { status: 'ok', assignment: r.assignment?.partitions ?? [] });
      } else {
        // "Generation data was cleared by heartbeat thread ... marking this rebalance as failed and retry"
        fail('ILLEGAL_GENERATION', false);
      }
    } else if (error === Errors.REBALANCE_IN_PROGRESS) {
      fail(errorName(error), false);
    } else if (error === Errors.UNKNOWN_MEMBER_ID || error === Errors.ILLEGAL_GENERATION) {
      // "don't reset generation member ID when ILLEGAL_GENERATION, since the member ID might still be valid"
      if (sameGeneration(this.generation, sentGeneration)) this.resetStateOnResponseError('SYNC_GROUP', error, error !== Errors.ILLEGAL_GENERATION);
      fail(errorName(error), false);
    } else if (error === Errors.COORDINATOR_NOT_AVAILABLE || error === Errors.NOT_COORDINATOR) {
      this.markCoordinatorUnknown(false, `error response ${errorName(error)}`);
      fail(errorName(error), true);
    } else {
      fail(errorName(error), false);
    }
  }

  /**
   * ConsumerCoordinator.onJoinComplete: applies the new assignment. With COOPERATIVE, partitions
   * taken away are revoked first and the member rejoins at once (the second rebalance of KIP-429);
   * onPartitionsAssigned gets only the partitions added.
   */
  private onJoinComplete(nowMs: number, assigned: readonly TopicPartition[]): void {
    const subs = this.host.subscriptions;
    const owned = subs.assignedPartitions();
    const assignedKeys = new Set(assigned.map((tp) => tpKey(tp.topic, tp.partition)));
    const ownedKeys = new Set(owned.map((tp) => tpKey(tp.topic, tp.partition)));
    if (assigned.some((tp) => !subs.subscription().includes(tp.topic))) {
      this.requestRejoin('assigned partitions do not match the subscription');
      return;
    }
    const added = sortTps(assigned.filter((tp) => !ownedKeys.has(tpKey(tp.topic, tp.partition))));
    if (this.protocol === 'COOPERATIVE') {
      const revoked = owned.filter((tp) => !assignedKeys.has(tpKey(tp.topic, tp.partition)));
      if (revoked.length > 0) {
        this.host.invokeCallback('onPartitionsRevoked', revoked);
        this.requestRejoin('need to revoke partitions and re-join');
      }
    }
    if (this.autoCommitEnabled) this.nextAutoCommitMs = nowMs + this.config['auto.commit.interval.ms'];
    subs.assignFromSubscribed(assigned);
    this.host.assignmentChanged('join-complete');
    this.host.invokeCallback('onPartitionsAssigned', added);
  }

  // ------------------------------------------------------------ coordinator discovery

  /** AbstractCoordinator.lookupCoordinator: FindCoordinator to the least loaded broker. */
  lookupCoordinator(nowMs: number): void {
    if (this.findCoordinatorInFlight || this.closed || nowMs < this.findCoordinatorRetryAtMs || this.config['group.id'] === null) return;
    const node = this.host.network.leastLoadedNode(this.host.brokers(), nowMs);
    if (node === undefined) {
      this.findCoordinatorRetryAtMs = this.host.network.earliestReconnectMs(this.host.brokers(), nowMs);
      return;
    }
    this.findCoordinatorInFlight = true;
    const failed = (error: string) => {
      this.findCoordinatorInFlight = false;
      const now = this.host.nowMs();
      this.findCoordinatorRetryAtMs = now + this.host.retryBackoffMs(this.findCoordinatorAttempts++);
      this.host.metadata.requestUpdate();
      this.host.record({ type: 'find-coordinator', phase: 'fail', error });
    };
    this.host.network.send(
      node,
      { type: 'FindCoordinatorRequest', correlationId: 0, keyType: COORDINATOR_TYPE_GROUP, coordinatorKeys: [this.groupId], sizeBytes: groupWireSize(1) },
      (resp) => {
        const r = resp as FindCoordinatorResponse;
        const c = r.coordinators[0];
        if (c === undefined || c.error !== Errors.NONE || c.nodeId < 0) return failed(c === undefined ? 'IllegalStateException' : errorName(c.error));
        this.findCoordinatorInFlight = false;
        this.findCoordinatorAttempts = 0;
        this.coordinator = c.nodeId;
        // Heartbeat.resetSessionTimeout.
        this.sessionDeadlineMs = this.host.nowMs() + this.config['session.timeout.ms'];
        this.host.record({ type: 'find-coordinator', phase: 'ok', coordinator: c.nodeId });
      },
      () => failed('DisconnectException'),
    );
  }

  /** AbstractCoordinator.markCoordinatorUnknown: forget it; unless already disconnected, close the connection. */
  markCoordinatorUnknown(isDisconnected: boolean, cause: string): void {
    const old = this.coordinator;
    if (old === null) return;
    this.coordinator = null;
    this.host.record({ type: 'coordinator-unknown', coordinator: old, cause });
    if (!isDisconnected) this.host.network.disconnect(old);
  }

  // ------------------------------------------------------------ generation resets

  private resetStateAndGeneration(shouldResetMemberId: boolean): void {
    this.state = 'UNJOINED';
    this.heartbeatEnabled = false;
    this.generation = shouldResetMemberId ? NO_GENERATION : { generationId: UNKNOWN_GENERATION_ID, memberId: this.generation.memberId, protocolName: null };
  }

  private resetStateAndRejoin(reason: string, shouldResetMemberId: boolean): void {
    this.host.record({ type: 'generation-reset', reason, generation: this.generation.generationId, memberId: this.generation.memberId, resetMemberId: shouldResetMemberId });
    this.resetStateAndGeneration(shouldResetMemberId);
    this.requestRejoin(reason);
    this.needsJoinPrepare = true;
  }

  private resetStateOnResponseError(api: string, error: ErrorCode, shouldResetMemberId: boolean): void {
    this.resetStateAndRejoin(`encountered ${errorName(error)} from ${api} response`, shouldResetMemberId);
  }

  // ------------------------------------------------------------ heartbeat thread

  private enableHeartbeat(): void {
    this.heartbeatEnabled = true;
    // Heartbeat.resetTimeouts.
    const nowMs = this.host.nowMs();
    this.sessionDeadlineMs = nowMs + this.config['session.timeout.ms'];
    this.pollDeadlineMs = nowMs + this.config['max.poll.interval.ms'];
    this.heartbeatDueMs = nowMs + this.config['heartbeat.interval.ms'];
  }

  /**
   * One turn of AbstractCoordinator.HeartbeatThread.run. Returns when it wants to run again
   * (Infinity while disabled).
   */
  heartbeatStep(nowMs: number): number {
    for (let guard = 0; guard < 10; guard++) {
      if (this.closed || !this.heartbeatEnabled) return Infinity;
      if (this.state === 'UNJOINED' || this.state === 'PREPARING_REBALANCE' || this.heartbeatFailed !== null) {
        this.heartbeatEnabled = false;
        return Infinity;
      }
      if (this.coordinatorUnknown()) {
        this.lookupCoordinator(nowMs);
        return nowMs + this.config['retry.backoff.ms'];
      }
      if (nowMs >= this.sessionDeadlineMs) {
        this.markCoordinatorUnknown(false, 'session timed out without receiving a heartbeat response');
        continue;
      }
      if (nowMs >= this.pollDeadlineMs) {
        // "consumer poll timeout has expired. This means the time between subsequent calls to poll()
        // was longer than the configured max.poll.interval.ms, ..."
        this.maybeLeaveGroup('consumer poll timeout has expired.');
        continue;
      }
      if (nowMs < this.heartbeatDueMs) return Math.min(this.heartbeatDueMs, this.sessionDeadlineMs, this.pollDeadlineMs);
      this.heartbeatDueMs = nowMs + this.config['heartbeat.interval.ms'];
      this.sendHeartbeat();
    }
    return nowMs + this.config['retry.backoff.ms'];
  }

  private sendHeartbeat(): void {
    const coordinator = this.coordinator;
    if (coordinator === null) return;
    const sentGeneration = this.generation;
    this.host.network.send(
      coordinator,
      { type: 'HeartbeatRequest', correlationId: 0, groupId: this.groupId, generationId: sentGeneration.generationId, memberId: sentGeneration.memberId, groupInstanceId: this.config['group.instance.id'], sizeBytes: groupWireSize(1) },
      (resp) => this.handleHeartbeatResponse(resp as HeartbeatResponse, sentGeneration),
      () => {
        this.markCoordinatorUnknown(true, 'disconnected');
        this.failHeartbeat();
      },
    );
  }

  /** AbstractCoordinator.HeartbeatResponseHandler and the heartbeat thread's listener. */
  private handleHeartbeatResponse(r: HeartbeatResponse, sentGeneration: Generation): void {
    const error = r.error;
    if (error === Errors.NONE) return this.receiveHeartbeat();
    if (error === Errors.COORDINATOR_NOT_AVAILABLE || error === Errors.NOT_COORDINATOR) {
      this.markCoordinatorUnknown(false, `error response ${errorName(error)}`);
      return this.failHeartbeat();
    }
    if (error === Errors.REBALANCE_IN_PROGRESS) {
      // Valid to keep heartbeating while the group rebalances (receiveHeartbeat either way).
      if (this.state === 'STABLE') this.requestRejoin('group is already rebalancing');
      return this.receiveHeartbeat();
    }
    if (error === Errors.ILLEGAL_GENERATION || error === Errors.UNKNOWN_MEMBER_ID || error === Errors.FENCED_INSTANCE_ID) {
      if (!sameGeneration(this.generation, sentGeneration)) return this.receiveHeartbeat(); // stale: ignored
      // "don't reset generation member ID when ILLEGAL_GENERATION, since the member ID is still valid"
      this.resetStateOnResponseError('HEARTBEAT', error, error !== Errors.ILLEGAL_GENERATION);
      if (error === Errors.FENCED_INSTANCE_ID) {
        this.heartbeatFailed = 'FENCED_INSTANCE_ID';
        return;
      }
      return this.failHeartbeat();
    }
    this.heartbeatFailed = `KafkaException: Unexpected error in heartbeat response: ${errorName(error)}`;
  }

  private receiveHeartbeat(): void {
    this.heartbeatAttempts = 0;
    this.sessionDeadlineMs = this.host.nowMs() + this.config['session.timeout.ms'];
  }

  private failHeartbeat(): void {
    this.heartbeatDueMs = this.host.nowMs() + this.host.retryBackoffMs(this.heartbeatAttempts++);
  }

  /**
   * AbstractCoordinator.maybeLeaveGroup: a dynamic member in a group sends LeaveGroup (once, best
   * effort); the generation is reset either way, so the next poll() rejoins as a new member.
   */
  maybeLeaveGroup(reason: string): void {
    const coordinator = this.coordinator;
    if (this.isDynamicMember && coordinator !== null && this.state !== 'UNJOINED' && this.generation.memberId !== UNKNOWN_MEMBER_ID) {
      this.host.record({ type: 'leave-group', reason, memberId: this.generation.memberId, generation: this.generation.generationId });
      this.host.network.send(
        coordinator,
        { type: 'LeaveGroupRequest', correlationId: 0, groupId: this.groupId, members: [{ memberId: this.generation.memberId, groupInstanceId: null, reason }], sizeBytes: groupWireSize(1) },
        () => {},
        () => {},
      );
    }
    this.resetStateAndRejoin('consumer pro-actively leaving the group', true);
  }

  // ------------------------------------------------------------ offsets

  /** ConsumerCoordinator.maybeAutoCommitOffsetsAsync: every auto.commit.interval.ms, from poll(). */
  maybeAutoCommitOffsetsAsync(nowMs: number): void {
    if (!this.autoCommitEnabled || nowMs < this.nextAutoCommitMs) return;
    this.nextAutoCommitMs = nowMs + this.config['auto.commit.interval.ms'];
    this.commitOffsetsAsync(this.host.subscriptions.allConsumed(), 'auto', (failure) => {
      // A retriable failure retries after retry.backoff.ms instead of the full interval.
      if (failure !== null && failure.retriable) this.nextAutoCommitMs = this.host.nowMs() + this.config['retry.backoff.ms'];
    });
  }

  /**
   * ConsumerCoordinator.commitOffsetsAsync / sendOffsetCommitRequest. `onDone` gets null on
   * success. Records the attempt and its outcome.
   */
  commitOffsetsAsync(offsets: readonly OffsetToCommit[], kind: CommitKind, onDone: (failure: CoordinatorFailure | null) => void): void {
    const id = this.nextCommitId++;
    const commit: PendingCommit = { id, kind, offsets, onDone };
    const base = { commitId: id, kind, offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, leaderEpoch: o.leaderEpoch })) };
    if (offsets.length === 0) {
      // "if (offsets.isEmpty()) return RequestFuture.voidSuccess()": nothing is sent or recorded.
      onDone(null);
      return;
    }
    let generation: Generation;
    if (this.host.subscriptions.partitionsAutoAssigned) {
      const stable = this.generationIfStable();
      if (stable === null) {
        this.host.record({ type: 'commit', phase: 'invoke', ...base, generation: this.generation.generationId, memberId: this.generation.memberId });
        const failure = this.rebalanceInProgress()
          ? { error: 'RebalanceInProgressException: Offset commit cannot be completed since the consumer is undergoing a rebalance for auto partition assignment.', retriable: false }
          : { error: 'CommitFailedException: Offset commit cannot be completed since the consumer is not part of an active group for auto partition assignment; it is likely that the consumer was kicked out of the group.', retriable: false };
        return this.finishCommit(commit, failure);
      }
      generation = stable;
    } else {
      generation = NO_GENERATION;
    }
    this.host.record({ type: 'commit', phase: 'invoke', ...base, generation: generation.generationId, memberId: generation.memberId });
    const coordinator = this.coordinator;
    if (coordinator === null) {
      this.lookupCoordinator(this.host.nowMs());
      return this.finishCommit(commit, { error: 'COORDINATOR_NOT_AVAILABLE', retriable: true });
    }
    const byTopic = new Map<string, OffsetToCommit[]>();
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    this.host.network.send(
      coordinator,
      {
        type: 'OffsetCommitRequest',
        correlationId: 0,
        groupId: this.groupId,
        generationIdOrMemberEpoch: generation.generationId,
        memberId: generation.memberId,
        groupInstanceId: this.config['group.instance.id'],
        retentionTimeMs: DEFAULT_RETENTION_TIME,
        topics: [...byTopic].map(([name, list]) => ({
          name,
          partitions: list.map((o) => ({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch ?? NO_COMMITTED_LEADER_EPOCH, committedMetadata: '' })),
        })),
        sizeBytes: groupWireSize(offsets.length),
      },
      (resp) => this.handleOffsetCommitResponse(resp as OffsetCommitResponse, generation, commit),
      () => {
        this.markCoordinatorUnknown(true, 'disconnected');
        this.finishCommit(commit, { error: 'DisconnectException', retriable: true });
      },
    );
  }

  private finishCommit(commit: PendingCommit, failure: CoordinatorFailure | null): void {
    this.host.record({
      type: 'commit',
      phase: failure === null ? 'ok' : 'fail',
      commitId: commit.id,
      kind: commit.kind,
      offsets: commit.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, leaderEpoch: o.leaderEpoch })),
      ...(failure !== null ? { error: failure.error, retriable: failure.retriable } : {}),
    });
    commit.onDone(failure);
  }

  /** ConsumerCoordinator.OffsetCommitResponseHandler. */
  private handleOffsetCommitResponse(r: OffsetCommitResponse, sentGeneration: Generation, commit: PendingCommit): void {
    for (const t of r.topics) {
      for (const p of t.partitions) {
        const error = p.error;
        if (error === Errors.NONE) continue;
        const name = errorName(error);
        if (error === Errors.OFFSET_METADATA_TOO_LARGE || error === Errors.INVALID_COMMIT_OFFSET_SIZE) return this.finishCommit(commit, { error: name, retriable: false });
        if (error === Errors.COORDINATOR_LOAD_IN_PROGRESS || error === Errors.UNKNOWN_TOPIC_OR_PARTITION) return this.finishCommit(commit, { error: name, retriable: true });
        if (error === Errors.COORDINATOR_NOT_AVAILABLE || error === Errors.NOT_COORDINATOR || error === Errors.REQUEST_TIMED_OUT) {
          this.markCoordinatorUnknown(false, `error response ${name}`);
          return this.finishCommit(commit, { error: name, retriable: true });
        }
        if (error === Errors.FENCED_INSTANCE_ID) return this.finishCommit(commit, { error: name, retriable: false });
        if (error === Errors.REBALANCE_IN_PROGRESS) {
          this.requestRejoin('offset commit failed since group is already rebalancing');
          return this.finishCommit(commit, { error: 'RebalanceInProgressException: Offset commit cannot be completed since the consumer group is executing a rebalance at the moment.', retriable: false });
        }
        if (error === Errors.UNKNOWN_MEMBER_ID || error === Errors.ILLEGAL_GENERATION) {
          if (!sameGeneration(this.generation, sentGeneration) && this.rebalanceInProgress()) {
            return this.finishCommit(commit, { error: `RebalanceInProgressException: ${name}`, retriable: false });
          }
          if (this.host.subscriptions.partitionsAutoAssigned) this.resetStateOnResponseError('OFFSET_COMMIT', error, true);
          return this.finishCommit(commit, { error: `CommitFailedException: ${name}`, retriable: false });
        }
        return this.finishCommit(commit, { error: `KafkaException: Unexpected error in commit: ${name}`, retriable: false });
      }
    }
    this.finishCommit(commit, null);
  }

  /**
   * ConsumerCoordinator.fetchCommittedOffsets (OffsetFetch, requireStable): `onDone` gets the
   * committed offset and epoch of each partition (null for none), or a failure.
   */
  fetchCommittedOffsets(
    partitions: readonly TopicPartition[],
    onDone: (result: Map<string, { offset: number; leaderEpoch: number | null } | null> | null, failure: CoordinatorFailure | null) => void,
  ): boolean {
    const coordinator = this.coordinator;
    if (coordinator === null) {
      this.lookupCoordinator(this.host.nowMs());
      return false;
    }
    const byTopic = new Map<string, number[]>();
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    this.host.network.send(
      coordinator,
      {
        type: 'OffsetFetchRequest',
        correlationId: 0,
        groupId: this.groupId,
        topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
        requireStable: true,
        sizeBytes: groupWireSize(partitions.length),
      },
      (resp) => {
        const r = resp as OffsetFetchResponse;
        if (r.error !== Errors.NONE) {
          if (r.error === Errors.NOT_COORDINATOR || r.error === Errors.COORDINATOR_NOT_AVAILABLE) this.markCoordinatorUnknown(false, `error response ${errorName(r.error)}`);
          return onDone(null, { error: errorName(r.error), retriable: isRetriable(r.error) });
        }
        const result = new Map<string, { offset: number; leaderEpoch: number | null } | null>();
        for (const t of r.topics) {
          for (const p of t.partitions) {
            if (p.error !== Errors.NONE) return onDone(null, { error: errorName(p.error), retriable: isRetriable(p.error) });
            result.set(tpKey(t.name, p.partitionIndex), p.committedOffset === INVALID_OFFSET || p.committedOffset < 0 ? null : { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch >= 0 ? p.committedLeaderEpoch : null });
          }
        }
        onDone(result, null);
      },
      () => {
        this.markCoordinatorUnknown(true, 'disconnected');
        onDone(null, { error: 'DisconnectException', retriable: true });
      },
    );
    return true;
  }

  /** AbstractCoordinator.close: stop heartbeating; leave the group (dynamic members). */
  close(): void {
    if (this.closed) return;
    if (this.host.subscriptions.partitionsAutoAssigned) {
      // ConsumerCoordinator.onLeavePrepare: revoke (or lose) what is owned.
      const owned = this.host.subscriptions.assignedPartitions();
      if (owned.length > 0) {
        const lost = this.generation.generationId === UNKNOWN_GENERATION_ID || this.generation.memberId === UNKNOWN_MEMBER_ID;
        this.host.invokeCallback(lost ? 'onPartitionsLost' : 'onPartitionsRevoked', owned);
        this.host.subscriptions.assignFromSubscribed([]);
        this.host.assignmentChanged('close');
      }
      this.maybeLeaveGroup('the consumer is being closed');
    }
    this.closed = true;
    this.heartbeatEnabled = false;
  }
}

function sameGeneration(a: Generation, b: Generation): boolean {
  return a.generationId === b.generationId && a.memberId === b.memberId && a.protocolName === b.protocolName;
}
