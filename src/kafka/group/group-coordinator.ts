import { Errors, type ErrorCode } from '../protocol/errors.js';
import {
  EMPTY_ASSIGNMENT,
  NO_LEADER,
  UNKNOWN_MEMBER_ID,
  groupWireSize,
  type GroupRequest,
  type GroupResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
  type MemberAssignment,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from '../protocol/group-messages.js';
import { ClassicGroup, GroupApiError, type ClassicGroupState } from './classic-group.js';
import {
  ClassicGroupMember,
  plainProtocolSet,
  type JoinGroupResponseData,
  type JoinResponder,
  type SyncGroupResponseData,
  type SyncResponder,
} from './classic-group-member.js';
import { groupCoordinatorPartition } from './coordinator-partition.js';
import {
  groupMetadataRecord,
  groupMetadataTombstone,
  type GroupMetadataMember,
  type GroupMetadataValue,
  type GroupRecord,
  type OffsetCommitRecord,
} from './group-records.js';
import { OffsetMetadataManager, type OffsetAndMetadata } from './offset-metadata-manager.js';

/**
 * The group coordinator's configuration, with Kafka's config names and Kafka 4.x defaults
 * (GroupCoordinatorConfig.java).
 */
export interface GroupCoordinatorConfig {
  readonly 'group.initial.rebalance.delay.ms': number;
  readonly 'group.min.session.timeout.ms': number;
  readonly 'group.max.session.timeout.ms': number;
  readonly 'group.max.size': number;
  readonly 'offsets.topic.num.partitions': number;
  readonly 'offsets.retention.minutes': number;
  readonly 'offsets.retention.check.interval.ms': number;
  readonly 'offset.metadata.max.bytes': number;
}

export const DEFAULT_GROUP_COORDINATOR_CONFIG: GroupCoordinatorConfig = {
  'group.initial.rebalance.delay.ms': 3000,
  'group.min.session.timeout.ms': 6000,
  'group.max.session.timeout.ms': 1_800_000,
  'group.max.size': 2_147_483_647,
  'offsets.topic.num.partitions': 50,
  'offsets.retention.minutes': 10_080,
  'offsets.retention.check.interval.ms': 600_000,
  'offset.metadata.max.bytes': 4096,
};

/**
 * GroupCoordinatorConfig.CLASSIC_GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS (not a broker config): how long
 * a new member's parked JoinGroup may wait before the member is dropped.
 */
export const CLASSIC_GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

/** Timer names the coordinator asks its host for; `onTimer` takes them back. */
export const GROUP_JOIN_TIMER = 'group-join';
export const GROUP_SYNC_TIMER = 'group-sync';
export const GROUP_HEARTBEAT_TIMER = 'group-heartbeat';
export const GROUP_METADATA_EXPIRATION_TIMER = 'group-metadata-expiration';
export const GROUP_COORDINATOR_TIMERS: readonly string[] = [GROUP_JOIN_TIMER, GROUP_SYNC_TIMER, GROUP_HEARTBEAT_TIMER, GROUP_METADATA_EXPIRATION_TIMER];

/** A history entry (group state transitions, generations, assignments, committed offsets). */
export type GroupHistoryEntry = { readonly type: string } & Record<string, unknown>;

/**
 * What the coordinator needs from the broker hosting it (sans-IO).
 *
 * `append` writes records to the leader of a __consumer_offsets partition and calls `done` once
 * they are committed (the high watermark passed them: CoordinatorRuntime completes a write when
 * its records are committed), or failed with the produce error (NOT_LEADER_OR_FOLLOWER,
 * NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT after offsets.commit.timeout.ms, ...). `done` may be
 * called synchronously, and late calls after an unload are ignored.
 */
export interface GroupCoordinatorHost {
  nowMs(): number;
  setTimer(name: string, delayMs: number, data: unknown): number;
  cancelTimer(id: number): void;
  append(partition: number, records: readonly GroupRecord[], done: (error: ErrorCode) => void): void;
  /** A fresh UUID-like string for a member id, from a deterministic stream. */
  nextMemberUuid(): string;
  record?(entry: GroupHistoryEntry): void;
}

/** The state of a __consumer_offsets partition in this coordinator (CoordinatorRuntime.CoordinatorState). */
export type CoordinatorPartitionState = 'loading' | 'active';

/**
 * GroupMetadataManager.appendGroupMetadataErrorToResponseError / the runtime's
 * handleOperationException: how a failed append reaches the client.
 */
export function appendErrorToResponseError(error: ErrorCode): ErrorCode {
  switch (error) {
    case Errors.UNKNOWN_TOPIC_OR_PARTITION:
    case Errors.NOT_ENOUGH_REPLICAS:
    case Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case Errors.REQUEST_TIMED_OUT:
      return Errors.COORDINATOR_NOT_AVAILABLE;
    case Errors.NOT_LEADER_OR_FOLLOWER:
    case Errors.KAFKA_STORAGE_ERROR:
      return Errors.NOT_COORDINATOR;
    case Errors.MESSAGE_TOO_LARGE:
    case Errors.RECORD_LIST_TOO_LARGE:
      return Errors.UNKNOWN_SERVER_ERROR;
    default:
      return error;
  }
}

type TimerData =
  | { readonly key: string; readonly seq: number; readonly op: 'join'; readonly groupId: string }
  | { readonly key: string; readonly seq: number; readonly op: 'initial-join'; readonly groupId: string; readonly delayMs: number; readonly remainingMs: number }
  | { readonly key: string; readonly seq: number; readonly op: 'sync'; readonly groupId: string; readonly generationId: number }
  | { readonly key: string; readonly seq: number; readonly op: 'heartbeat'; readonly groupId: string; readonly memberId: string }
  | { readonly key: string; readonly seq: number; readonly op: 'expiration'; readonly partition: number };

type TimerSpec =
  | { readonly op: 'join'; readonly groupId: string }
  | { readonly op: 'initial-join'; readonly groupId: string; readonly delayMs: number; readonly remainingMs: number }
  | { readonly op: 'sync'; readonly groupId: string; readonly generationId: number }
  | { readonly op: 'heartbeat'; readonly groupId: string; readonly memberId: string }
  | { readonly op: 'expiration'; readonly partition: number };

interface ScheduledTimer {
  readonly hostId: number;
  readonly seq: number;
  readonly partition: number;
}

interface PendingWrite {
  readonly partition: number;
  readonly onDone: (error: ErrorCode) => void;
}

/** classicGroupJoinKey, classicGroupSyncKey and classicGroupHeartbeatKey in GroupMetadataManager. */
const joinKey = (groupId: string): string => `join-${groupId}`;
const syncKey = (groupId: string): string => `sync-${groupId}`;
const heartbeatKey = (groupId: string, memberId: string): string => `heartbeat-${groupId}-${memberId}`;
const expirationKey = (partition: number): string => `expire-group-metadata-${partition}`;

/** A JoinGroupResponseData as Kafka's defaults leave it, with an error. */
function joinError(memberId: string, error: ErrorCode): JoinGroupResponseData {
  return { error, generationId: -1, protocolType: null, protocolName: null, leader: NO_LEADER, skipAssignment: false, memberId, members: [] };
}

function syncError(error: ErrorCode): SyncGroupResponseData {
  return { error, protocolType: null, protocolName: null, assignment: EMPTY_ASSIGNMENT };
}

/**
 * The classic consumer group coordinator, as a sans-IO state machine: Apache Kafka 4.x's
 * group-coordinator module (GroupCoordinatorService for request validation, CoordinatorRuntime for
 * partition loading and writes, GroupCoordinatorShard, GroupMetadataManager for the classic
 * protocol, OffsetMetadataManager for offsets) cut down to classic groups.
 *
 * One coordinator object serves every __consumer_offsets partition this broker leads. Group
 * state is mutated in memory as Kafka mutates it, and persisted as GroupMetadata / OffsetCommit
 * records through `host.append`; requests whose answer depends on a write (SyncGroup from the
 * leader, OffsetCommit, a static member's rejoin) are answered when the write completes.
 */
export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  private readonly partitions = new Map<number, CoordinatorPartitionState>();
  private readonly groups = new Map<string, ClassicGroup>();
  private readonly offsets: OffsetMetadataManager;
  private readonly timers = new Map<string, ScheduledTimer>();
  private timerSeq = 0;
  private readonly pendingWrites = new Map<number, PendingWrite>();
  private writeSeq = 0;
  private active = true;
  private readonly onTransition = (group: ClassicGroup, from: ClassicGroupState, to: ClassicGroupState): void => {
    this.history({ type: 'group-state-transition', groupId: group.groupId, from, to, generationId: group.generationId });
  };

  constructor(
    private readonly host: GroupCoordinatorHost,
    config: Partial<GroupCoordinatorConfig> = {},
    private readonly newMemberJoinTimeoutMs: number = CLASSIC_GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS,
  ) {
    this.config = { ...DEFAULT_GROUP_COORDINATOR_CONFIG, ...config };
    this.offsets = new OffsetMetadataManager(this.config['offset.metadata.max.bytes']);
  }

  // ------------------------------------------------------------ inspection

  /** The __consumer_offsets partition coordinating `groupId`. */
  partitionFor(groupId: string): number {
    return groupCoordinatorPartition(groupId, this.config['offsets.topic.num.partitions']);
  }

  partitionState(partition: number): CoordinatorPartitionState | undefined {
    return this.partitions.get(partition);
  }

  group(groupId: string): ClassicGroup | undefined {
    return this.groups.get(groupId);
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  committedOffset(groupId: string, topic: string, partition: number): OffsetAndMetadata | undefined {
    return this.offsets.offset(groupId, topic, partition);
  }

  committedOffsets(groupId: string): { topic: string; partition: number; offset: OffsetAndMetadata }[] {
    return this.offsets.offsets(groupId);
  }

  // ------------------------------------------------------------ partition lifecycle

  /** The broker became leader of `partition` and starts reading it: requests get COORDINATOR_LOAD_IN_PROGRESS. */
  beginLoad(partition: number): void {
    if (this.partitions.has(partition)) this.unloadPartition(partition);
    this.partitions.set(partition, 'loading');
  }

  /**
   * Replays the partition's committed records (CoordinatorLoaderImpl → GroupCoordinatorShard.replay)
   * and activates it (GroupMetadataManager.onLoaded: session timers for every loaded member).
   */
  loadPartition(partition: number, records: Iterable<GroupRecord>): void {
    if (this.partitions.get(partition) !== 'loading') this.beginLoad(partition);
    for (const r of records) this.replay(partition, r);
    this.partitions.set(partition, 'active');
    const nowMs = this.host.nowMs();
    let loadedGroups = 0;
    for (const group of this.groups.values()) {
      if (group.partition !== partition) continue;
      loadedGroups++;
      this.history({
        type: 'group-loaded',
        groupId: group.groupId,
        partition,
        state: group.state,
        generationId: group.generationId,
        assignments: this.assignmentsOf(group),
        offsets: this.offsets.offsets(group.groupId).map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset.committedOffset })),
      });
      for (const m of group.allMembers()) this.rescheduleHeartbeat(group, m, m.sessionTimeoutMs);
      if (group.numMembers() > this.config['group.max.size']) this.prepareRebalance(group, nowMs);
    }
    this.history({ type: 'group-partition-loaded', partition, groups: loadedGroups });
    this.scheduleMetadataExpiration(partition);
  }

  /**
   * The broker is no longer leader of `partition` (GroupMetadataManager.onUnloaded): every group
   * goes Dead, parked joins and syncs get NOT_COORDINATOR, pending writes fail with NOT_COORDINATOR,
   * and the partition's groups, offsets and timers are dropped.
   */
  unloadPartition(partition: number): void {
    if (!this.partitions.has(partition)) return;
    this.partitions.delete(partition);
    const nowMs = this.host.nowMs();
    const unloaded: ClassicGroup[] = [];
    for (const group of this.groups.values()) if (group.partition === partition) unloaded.push(group);
    for (const group of unloaded) this.groups.delete(group.groupId);
    for (const [key, t] of [...this.timers]) {
      if (t.partition !== partition) continue;
      this.timers.delete(key);
      this.host.cancelTimer(t.hostId);
    }
    for (const group of unloaded) {
      group.transitionTo('Dead', nowMs);
      const previous = group.previousState;
      if (previous === 'PreparingRebalance') {
        for (const m of [...group.allMembers()]) group.completeJoinFuture(m, joinError(m.memberId, Errors.NOT_COORDINATOR));
      } else if (previous === 'CompletingRebalance' || previous === 'Stable') {
        for (const m of [...group.allMembers()]) group.completeSyncFuture(m, syncError(Errors.NOT_COORDINATOR));
      }
    }
    for (const groupId of [...this.offsets.groupIds()]) if (this.partitionFor(groupId) === partition) this.offsets.removeGroup(groupId);
    for (const [id, w] of [...this.pendingWrites]) {
      if (w.partition !== partition) continue;
      this.pendingWrites.delete(id);
      w.onDone(Errors.NOT_COORDINATOR);
    }
    this.history({ type: 'group-partition-unloaded', partition, groups: unloaded.map((g) => g.groupId) });
  }

  /** GroupCoordinatorService.shutdown: every request gets COORDINATOR_NOT_AVAILABLE from now on. */
  shutdown(): void {
    for (const p of [...this.partitions.keys()]) this.unloadPartition(p);
    this.active = false;
  }

  /** GroupCoordinatorShard.replay for the classic records. */
  private replay(partition: number, record: GroupRecord): void {
    if (record.type === 'OffsetCommit') {
      // OffsetMetadataManager.replay: an offset of an unknown group creates a "simple" group.
      if (record.value !== null && !this.groups.has(record.key.group)) this.createGroup(record.key.group, partition);
      this.offsets.replay(record.key, record.value);
      return;
    }
    const groupId = record.key.group;
    const value = record.value;
    if (value === null) {
      this.groups.delete(groupId);
      return;
    }
    // GroupMetadataManager.replay(GroupMetadataKey, GroupMetadataValue): the group as persisted,
    // Stable if it has members, Empty otherwise.
    const nowMs = this.host.nowMs();
    const group = new ClassicGroup(groupId, partition, value.members.length === 0 ? 'Empty' : 'Stable', nowMs, {
      generationId: value.generation,
      protocolType: value.protocolType === '' ? null : value.protocolType,
      protocolName: value.protocol,
      leaderId: value.leader,
      currentStateTimestampMs: value.currentStateTimestamp === -1 ? nowMs : value.currentStateTimestamp,
    });
    group.onTransition = this.onTransition;
    for (const m of value.members) {
      const rebalanceTimeout = m.rebalanceTimeout === -1 ? m.sessionTimeout : m.rebalanceTimeout;
      group.add(
        new ClassicGroupMember(m.memberId, m.groupInstanceId, m.clientId, m.clientHost, rebalanceTimeout, m.sessionTimeout, value.protocolType, [
          { name: value.protocol ?? '', metadata: m.subscription },
        ], m.assignment),
      );
    }
    this.groups.set(groupId, group);
  }

  // ------------------------------------------------------------ requests

  /** Dispatches a group request by type; `respond` is called once, maybe later. */
  handle(request: GroupRequest, respond: (response: GroupResponse) => void): void {
    switch (request.type) {
      case 'JoinGroupRequest':
        return this.handleJoinGroup(request, respond);
      case 'SyncGroupRequest':
        return this.handleSyncGroup(request, respond);
      case 'HeartbeatRequest':
        return this.handleHeartbeat(request, respond);
      case 'LeaveGroupRequest':
        return this.handleLeaveGroup(request, respond);
      case 'OffsetCommitRequest':
        return this.handleOffsetCommit(request, respond);
      case 'OffsetFetchRequest':
        return this.handleOffsetFetch(request, respond);
    }
  }

  /**
   * The runtime's checks before a request reaches the shard: CoordinatorRuntime's active context
   * (no context: NOT_COORDINATOR; loading: COORDINATOR_LOAD_IN_PROGRESS).
   */
  private partitionError(groupId: string): ErrorCode {
    const state = this.partitions.get(this.partitionFor(groupId));
    if (state === undefined) return Errors.NOT_COORDINATOR;
    if (state === 'loading') return Errors.COORDINATOR_LOAD_IN_PROGRESS;
    return Errors.NONE;
  }

  /** GroupCoordinatorService.joinGroup, then GroupMetadataManager.classicGroupJoin. */
  handleJoinGroup(request: JoinGroupRequest, respond: (response: JoinGroupResponse) => void): void {
    let done = false;
    const responder: JoinResponder = (data) => {
      if (done) return;
      done = true;
      respond({ type: 'JoinGroupResponse', correlationId: request.correlationId, ...data, sizeBytes: groupWireSize(data.members.length) });
    };
    if (!this.active) return responder(joinError(request.memberId, Errors.COORDINATOR_NOT_AVAILABLE));
    if (request.groupId === '') return responder(joinError(request.memberId, Errors.INVALID_GROUP_ID));
    if (request.sessionTimeoutMs < this.config['group.min.session.timeout.ms'] || request.sessionTimeoutMs > this.config['group.max.session.timeout.ms']) {
      return responder(joinError(request.memberId, Errors.INVALID_SESSION_TIMEOUT));
    }
    const err = this.partitionError(request.groupId);
    if (err !== Errors.NONE) return responder(joinError('', err));
    this.classicGroupJoin(request, responder);
  }

  /** GroupMetadataManager.classicGroupJoinToClassicGroup. */
  private classicGroupJoin(request: JoinGroupRequest, responder: JoinResponder): void {
    const { groupId, memberId } = request;
    const isUnknownMember = memberId === UNKNOWN_MEMBER_ID;
    const isNewGroup = !this.groups.has(groupId);
    let group = this.groups.get(groupId);
    if (group === undefined) {
      // A group is created only by a member without id; a known member id of an unknown group
      // is rejected (getOrMaybeCreateClassicGroup throws GroupIdNotFoundException).
      if (!isUnknownMember) return responder(joinError(memberId, Errors.UNKNOWN_MEMBER_ID));
      group = this.createGroup(groupId, this.partitionFor(groupId));
    }
    let wrote = false;
    if (!this.acceptJoiningMember(group, memberId)) {
      group.remove(memberId);
      responder(joinError(UNKNOWN_MEMBER_ID, Errors.GROUP_MAX_SIZE_REACHED));
    } else if (isUnknownMember) {
      wrote = this.classicGroupJoinNewMember(request, group, responder);
    } else {
      wrote = this.classicGroupJoinExistingMember(request, group, responder);
    }
    if (isNewGroup && !wrote) {
      // Commit the new group with an empty GroupMetadata record; if the write fails, Kafka
      // reverts the timeline, removing the group.
      const created = group;
      this.write(created.partition, [groupMetadataRecord(groupId, this.emptyGroupMetadataValue(created))], (error) => {
        if (error === Errors.NONE) return;
        responder(joinError('', error));
        if (this.groups.get(groupId) === created && created.isEmpty() && created.numMembers() === 0) this.removeGroup(created);
      });
    }
  }

  /** GroupMetadataManager.acceptJoiningMember (group.max.size). */
  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const maxSize = this.config['group.max.size'];
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        return (group.hasMember(memberId) && (group.member(memberId) as ClassicGroupMember).isAwaitingJoin()) || group.numAwaitingJoinResponse() < maxSize;
      case 'CompletingRebalance':
      case 'Stable':
        return group.hasMember(memberId) || group.numMembers() < maxSize;
    }
  }

  /** GroupMetadataManager.classicGroupJoinNewMember. Returns whether records were written. */
  private classicGroupJoinNewMember(request: JoinGroupRequest, group: ClassicGroup, responder: JoinResponder): boolean {
    if (group.isInState('Dead')) {
      responder(joinError(UNKNOWN_MEMBER_ID, Errors.COORDINATOR_NOT_AVAILABLE));
      return false;
    }
    if (!group.supportsProtocols(request.protocolType, plainProtocolSet(request.protocols))) {
      responder(joinError(UNKNOWN_MEMBER_ID, Errors.INCONSISTENT_GROUP_PROTOCOL));
      return false;
    }
    // ClassicGroup.generateMemberId: (group.instance.id or client id) + "-" + a UUID.
    const newMemberId = `${request.groupInstanceId ?? request.clientId}-${this.host.nextMemberUuid()}`;
    if (request.groupInstanceId !== null) {
      // classicGroupJoinNewStaticMember: replace the member of this instance id, or add it.
      const existingMemberId = group.staticMemberId(request.groupInstanceId);
      if (existingMemberId !== undefined) return this.updateStaticMemberThenRebalanceOrCompleteJoin(request, group, existingMemberId, newMemberId, responder);
      return this.addMemberThenRebalanceOrCompleteJoin(request, group, newMemberId, responder);
    }
    // classicGroupJoinNewDynamicMember with JoinGroup v4+ (requiresKnownMemberId, KIP-394): the
    // member becomes pending and must rejoin with the id it is given.
    group.addPendingMember(newMemberId);
    this.scheduleTimer(group.partition, heartbeatKey(group.groupId, newMemberId), request.sessionTimeoutMs, { op: 'heartbeat', groupId: group.groupId, memberId: newMemberId }, group);
    responder(joinError(newMemberId, Errors.MEMBER_ID_REQUIRED));
    return false;
  }

  /** GroupMetadataManager.classicGroupJoinExistingMember. */
  private classicGroupJoinExistingMember(request: JoinGroupRequest, group: ClassicGroup, responder: JoinResponder): boolean {
    const { memberId, groupInstanceId } = request;
    if (group.isInState('Dead')) {
      responder(joinError(memberId, Errors.COORDINATOR_NOT_AVAILABLE));
      return false;
    }
    if (!group.supportsProtocols(request.protocolType, plainProtocolSet(request.protocols))) {
      responder(joinError(memberId, Errors.INCONSISTENT_GROUP_PROTOCOL));
      return false;
    }
    if (group.isPendingMember(memberId)) {
      // A pending member cannot be static (Kafka throws IllegalStateException); answer as unknown.
      if (groupInstanceId !== null) {
        responder(joinError(memberId, Errors.UNKNOWN_MEMBER_ID));
        return false;
      }
      return this.addMemberThenRebalanceOrCompleteJoin(request, group, memberId, responder);
    }
    try {
      group.validateMember(memberId, groupInstanceId);
    } catch (e) {
      if (!(e instanceof GroupApiError)) throw e;
      responder(joinError(memberId, e.error));
      return false;
    }
    const member = group.member(memberId) as ClassicGroupMember;
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberThenRebalanceOrCompleteJoin(request, group, member, responder);
      case 'CompletingRebalance':
        if (member.matches(request.protocols)) {
          // The member missed its JoinGroup response: answer with the current generation.
          responder(this.joinSuccess(group, memberId, group.isLeader(memberId), false));
          return false;
        }
        return this.updateMemberThenRebalanceOrCompleteJoin(request, group, member, responder);
      case 'Stable':
        // The leader rejoining forces a rebalance; so does a follower with new metadata.
        if (group.isLeader(memberId) || !member.matches(request.protocols)) return this.updateMemberThenRebalanceOrCompleteJoin(request, group, member, responder);
        responder(this.joinSuccess(group, memberId, false, false));
        return false;
      default:
        // Empty: the member must reset its generation and rejoin.
        responder(joinError(memberId, Errors.UNKNOWN_MEMBER_ID));
        return false;
    }
  }

  private joinSuccess(group: ClassicGroup, memberId: string, withMembers: boolean, skipAssignment: boolean): JoinGroupResponseData {
    return {
      error: Errors.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? NO_LEADER,
      skipAssignment,
      memberId,
      members: withMembers ? group.currentClassicGroupMembers() : [],
    };
  }

  /** GroupMetadataManager.updateMemberThenRebalanceOrCompleteJoin. */
  private updateMemberThenRebalanceOrCompleteJoin(request: JoinGroupRequest, group: ClassicGroup, member: ClassicGroupMember, responder: JoinResponder): boolean {
    group.updateMember(member, request.protocols, request.rebalanceTimeoutMs, request.sessionTimeoutMs, responder);
    return this.maybePrepareRebalanceOrCompleteJoin(group);
  }

  /** GroupMetadataManager.addMemberThenRebalanceOrCompleteJoin. */
  private addMemberThenRebalanceOrCompleteJoin(request: JoinGroupRequest, group: ClassicGroup, memberId: string, responder: JoinResponder): boolean {
    const member = new ClassicGroupMember(
      memberId,
      request.groupInstanceId,
      request.clientId,
      request.clientHost,
      request.rebalanceTimeoutMs,
      request.sessionTimeoutMs,
      request.protocolType,
      request.protocols,
    );
    member.isNew = true;
    // A member joining during the initial rebalance delays it further (InitialDelayedJoin).
    if (group.isInState('PreparingRebalance') && group.previousState === 'Empty') group.newMemberAdded = true;
    group.add(member, responder);
    // New members' parked JoinGroups time out after the new member join timeout.
    this.rescheduleHeartbeat(group, member, this.newMemberJoinTimeoutMs);
    return this.maybePrepareRebalanceOrCompleteJoin(group);
  }

  /** GroupMetadataManager.maybePrepareRebalanceOrCompleteJoin. */
  private maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup): boolean {
    if (group.canRebalance()) return this.prepareRebalance(group, this.host.nowMs());
    return this.maybeCompleteJoinPhase(group);
  }

  /** GroupMetadataManager.maybeCompleteJoinPhase: never during the initial rebalance. */
  private maybeCompleteJoinPhase(group: ClassicGroup): boolean {
    if (!group.isInState('PreparingRebalance')) return false;
    if (group.previousState === 'Empty') return false;
    if (!group.hasAllMembersJoined()) return false;
    return this.completeClassicGroupJoin(group);
  }

  /** GroupMetadataManager.prepareRebalance. */
  private prepareRebalance(group: ClassicGroup, nowMs: number): boolean {
    // Members awaiting sync must rejoin.
    if (group.isInState('CompletingRebalance')) this.resetAndPropagateAssignmentWithError(group, Errors.REBALANCE_IN_PROGRESS);
    this.removeSyncExpiration(group);
    const isInitialRebalance = group.isInState('Empty');
    if (isInitialRebalance) {
      // The group is new: give members group.initial.rebalance.delay.ms to join, extended by
      // each new member up to the rebalance timeout (InitialDelayedJoin).
      const delayMs = this.config['group.initial.rebalance.delay.ms'];
      const remainingMs = Math.max(group.rebalanceTimeoutMs() - delayMs, 0);
      this.scheduleTimer(group.partition, joinKey(group.groupId), delayMs, { op: 'initial-join', groupId: group.groupId, delayMs, remainingMs }, group);
    }
    group.transitionTo('PreparingRebalance', nowMs);
    return isInitialRebalance ? false : this.maybeCompleteJoinElseSchedule(group);
  }

  /** GroupMetadataManager.maybeCompleteJoinElseSchedule: the join phase lasts at most the rebalance timeout. */
  private maybeCompleteJoinElseSchedule(group: ClassicGroup): boolean {
    if (group.hasAllMembersJoined()) return this.completeClassicGroupJoin(group);
    this.scheduleTimer(group.partition, joinKey(group.groupId), group.rebalanceTimeoutMs(), { op: 'join', groupId: group.groupId }, group);
    return false;
  }

  /** GroupMetadataManager.tryCompleteInitialRebalanceElseSchedule. */
  private tryCompleteInitialRebalanceElseSchedule(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const newDelayMs = Math.min(this.config['group.initial.rebalance.delay.ms'], remainingMs);
      const newRemainingMs = Math.max(remainingMs - delayMs, 0);
      this.scheduleTimer(group.partition, joinKey(group.groupId), newDelayMs, { op: 'initial-join', groupId: group.groupId, delayMs: newDelayMs, remainingMs: newRemainingMs }, group);
    } else {
      this.completeClassicGroupJoin(group);
    }
  }

  /** GroupMetadataManager.resetAndPropagateAssignmentWithError. */
  private resetAndPropagateAssignmentWithError(group: ClassicGroup, error: ErrorCode): void {
    if (!group.isInState('CompletingRebalance')) throw new Error(`IllegalStateException: Group ${group.groupId} must be in CompletingRebalance state but is in ${group.state}.`);
    for (const m of group.allMembers()) m.assignment = EMPTY_ASSIGNMENT;
    this.propagateAssignment(group, error);
  }

  /** GroupMetadataManager.setAndPropagateAssignment. */
  private setAndPropagateAssignment(group: ClassicGroup, assignment: ReadonlyMap<string, MemberAssignment>): void {
    if (!group.isInState('CompletingRebalance')) throw new Error('IllegalStateException: The group must be in CompletingRebalance state to set and propagate assignment.');
    for (const m of group.allMembers()) m.assignment = assignment.get(m.memberId) ?? EMPTY_ASSIGNMENT;
    this.propagateAssignment(group, Errors.NONE);
  }

  /** GroupMetadataManager.propagateAssignment: answers the parked SyncGroups and restarts their sessions. */
  private propagateAssignment(group: ClassicGroup, error: ErrorCode): void {
    const ok = error === Errors.NONE;
    for (const m of [...group.allMembers()]) {
      const sent = group.completeSyncFuture(m, {
        error,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: m.assignment,
      });
      if (sent) this.rescheduleHeartbeat(group, m, m.sessionTimeoutMs);
    }
  }

  /** GroupMetadataManager.removeSyncExpiration. */
  private removeSyncExpiration(group: ClassicGroup): void {
    group.clearPendingSyncMembers();
    this.cancelTimer(syncKey(group.groupId));
  }

  /**
   * GroupMetadataManager.completeClassicGroupJoin: drop the dynamic members that did not rejoin,
   * then start the next generation. Returns whether records were written.
   */
  private completeClassicGroupJoin(group: ClassicGroup): boolean {
    this.cancelTimer(joinKey(group.groupId));
    const nowMs = this.host.nowMs();
    for (const m of group.notYetRejoinedMembers()) {
      if (m.isStaticMember()) continue;
      group.remove(m.memberId);
      this.cancelTimer(heartbeatKey(group.groupId, m.memberId));
      this.history({ type: 'group-member-removed', groupId: group.groupId, memberId: m.memberId, reason: 'not-rejoined' });
    }
    if (group.isInState('Dead')) return false;
    if (!group.maybeElectNewJoinedLeader() && group.numMembers() > 0) {
      // No member rejoined: wait another rebalance timeout for session timeouts to remove them.
      this.scheduleTimer(group.partition, joinKey(group.groupId), group.rebalanceTimeoutMs(), { op: 'join', groupId: group.groupId }, group);
      return false;
    }
    group.initNextGeneration(nowMs);
    if (group.isInState('Empty')) {
      // A write failure only warns: the previous generation would come back on failover.
      this.write(group.partition, [groupMetadataRecord(group.groupId, this.groupMetadataValue(group, new Map()))], () => {});
      return true;
    }
    this.history({
      type: 'group-generation',
      groupId: group.groupId,
      generationId: group.generationId,
      protocolName: group.protocolName,
      leader: group.leaderId,
      members: [...group.members.keys()],
    });
    for (const m of [...group.allMembers()]) {
      group.completeJoinFuture(m, this.joinSuccess(group, m.memberId, group.isLeader(m.memberId), false));
      this.rescheduleHeartbeat(group, m, m.sessionTimeoutMs);
      m.isNew = false;
      group.addPendingSyncMember(m.memberId);
    }
    // schedulePendingSync: members that do not sync within the rebalance timeout are removed.
    this.scheduleTimer(group.partition, syncKey(group.groupId), group.rebalanceTimeoutMs(), { op: 'sync', groupId: group.groupId, generationId: group.generationId }, group);
    return false;
  }

  /** GroupMetadataManager.expirePendingSync. */
  private expirePendingSync(group: ClassicGroup, generationId: number): void {
    if (generationId !== group.generationId) return;
    if (!(group.isInState('CompletingRebalance') || group.isInState('Stable'))) return;
    if (group.hasReceivedSyncFromAllMembers()) return;
    for (const memberId of group.allPendingSyncMembers()) {
      group.remove(memberId);
      this.cancelTimer(heartbeatKey(group.groupId, memberId));
      this.history({ type: 'group-member-removed', groupId: group.groupId, memberId, reason: 'sync-expired' });
    }
    this.prepareRebalance(group, this.host.nowMs());
  }

  /** GroupMetadataManager.expireClassicGroupMemberHeartbeat. */
  private expireHeartbeat(group: ClassicGroup, memberId: string): void {
    if (group.isInState('Dead')) return;
    if (group.isPendingMember(memberId)) {
      // removePendingMemberAndUpdateClassicGroup
      group.remove(memberId);
      if (group.isInState('PreparingRebalance') && group.hasAllMembersJoined()) this.completeClassicGroupJoin(group);
      return;
    }
    const member = group.member(memberId);
    if (member === undefined || member.hasSatisfiedHeartbeat()) return;
    this.history({ type: 'group-member-removed', groupId: group.groupId, memberId, reason: 'session-timeout' });
    this.removeMemberAndUpdateClassicGroup(group, member);
  }

  /** GroupMetadataManager.removeMemberAndUpdateClassicGroup. */
  private removeMemberAndUpdateClassicGroup(group: ClassicGroup, member: ClassicGroupMember): void {
    // A new member may time out with a parked JoinGroup: tell it to retry with UNKNOWN_MEMBER_ID.
    group.completeJoinFuture(member, joinError(UNKNOWN_MEMBER_ID, Errors.UNKNOWN_MEMBER_ID));
    group.remove(member.memberId);
    if (group.isInState('Stable') || group.isInState('CompletingRebalance')) this.maybePrepareRebalanceOrCompleteJoin(group);
    else if (group.isInState('PreparingRebalance') && group.hasAllMembersJoined()) this.completeClassicGroupJoin(group);
  }

  /**
   * GroupMetadataManager.updateStaticMemberThenRebalanceOrCompleteJoin: a known static member
   * rejoins with a new member id; the old id is fenced.
   */
  private updateStaticMemberThenRebalanceOrCompleteJoin(
    request: JoinGroupRequest,
    group: ClassicGroup,
    oldMemberId: string,
    newMemberId: string,
    responder: JoinResponder,
  ): boolean {
    const currentLeader = group.leaderId;
    const groupInstanceId = request.groupInstanceId as string;
    const newMember = group.replaceStaticMember(groupInstanceId, oldMemberId, newMemberId);
    this.cancelTimer(heartbeatKey(group.groupId, oldMemberId));
    this.rescheduleHeartbeat(group, newMember, newMember.sessionTimeoutMs);
    const oldRebalanceTimeoutMs = newMember.rebalanceTimeoutMs;
    const oldSessionTimeoutMs = newMember.sessionTimeoutMs;
    const oldProtocols = newMember.supportedProtocols;
    group.updateMember(newMember, request.protocols, request.rebalanceTimeoutMs, request.sessionTimeoutMs, responder);
    this.history({ type: 'group-static-member-replaced', groupId: group.groupId, groupInstanceId, oldMemberId, newMemberId, generationId: group.generationId });

    if (group.isInState('Stable')) {
      // If the selected protocol would not change, persist the new member id and keep the
      // assignment without a rebalance; otherwise rebalance.
      if ((group.protocolName ?? '') === group.selectProtocol()) {
        const assignment = group.groupAssignment();
        this.write(group.partition, [groupMetadataRecord(group.groupId, this.groupMetadataValue(group, assignment))], (error) => {
          if (error !== Errors.NONE) {
            // Revert to the old member id (Kafka's appendFuture failure path).
            if (this.groups.get(group.groupId) === group && group.member(newMemberId) === newMember) {
              group.updateMember(newMember, oldProtocols, oldRebalanceTimeoutMs, oldSessionTimeoutMs, null);
              const oldMember = group.replaceStaticMember(groupInstanceId, newMemberId, oldMemberId);
              this.cancelTimer(heartbeatKey(group.groupId, newMemberId));
              this.rescheduleHeartbeat(group, oldMember, oldMember.sessionTimeoutMs);
            }
            responder({
              error,
              generationId: group.generationId,
              protocolType: group.protocolType,
              protocolName: group.protocolName,
              leader: currentLeader ?? NO_LEADER,
              skipAssignment: false,
              memberId: UNKNOWN_MEMBER_ID,
              members: [],
            });
            return;
          }
          // JoinGroup v9+ (supportsSkippingAssignment): a rejoining static leader gets the members
          // but must not compute a new assignment.
          const isLeader = group.isLeader(newMemberId);
          if (group.member(newMemberId) === newMember && group.isInState('Stable')) {
            group.completeJoinFuture(newMember, this.joinSuccess(group, newMemberId, isLeader, isLeader));
          } else {
            group.completeJoinFuture(newMember, joinError(newMemberId, Errors.UNKNOWN_MEMBER_ID));
          }
        });
        return true;
      }
      return this.maybePrepareRebalanceOrCompleteJoin(group);
    }
    if (group.isInState('CompletingRebalance')) {
      // The leader may already have the old member id: rebalance so the new id gets an assignment.
      return this.prepareRebalance(group, this.host.nowMs());
    }
    if (group.isInState('Empty') || group.isInState('Dead')) {
      throw new Error(`IllegalStateException: Group ${group.groupId} was not supposed to be in the state ${group.state} when the unknown static member ${groupInstanceId} rejoins.`);
    }
    return this.maybeCompleteJoinPhase(group);
  }

  /** GroupCoordinatorService.syncGroup, then GroupMetadataManager.classicGroupSync. */
  handleSyncGroup(request: SyncGroupRequest, respond: (response: SyncGroupResponse) => void): void {
    let done = false;
    const responder: SyncResponder = (data) => {
      if (done) return;
      done = true;
      respond({ type: 'SyncGroupResponse', correlationId: request.correlationId, ...data, sizeBytes: groupWireSize(data.assignment?.partitions.length ?? 0) });
    };
    if (!this.active) return responder(syncError(Errors.COORDINATOR_NOT_AVAILABLE));
    if (request.groupId === '') return responder(syncError(Errors.INVALID_GROUP_ID));
    const err = this.partitionError(request.groupId);
    if (err !== Errors.NONE) return responder(syncError(err));

    const group = this.groups.get(request.groupId);
    if (group === undefined || group.isEmpty()) return responder(syncError(Errors.UNKNOWN_MEMBER_ID));
    const memberId = request.memberId;
    const error = this.validateSyncGroup(group, request);
    if (error !== Errors.NONE) return responder(syncError(error));
    switch (group.state) {
      case 'PreparingRebalance':
        return responder(syncError(Errors.REBALANCE_IN_PROGRESS));
      case 'CompletingRebalance': {
        const member = group.member(memberId) as ClassicGroupMember;
        member.awaitingSync = responder;
        this.removePendingSyncMember(group, memberId);
        if (!group.isLeader(memberId)) return;
        // The leader's assignment, with an empty one for each member it left out.
        const assignment = new Map<string, MemberAssignment>();
        for (const a of request.assignments) assignment.set(a.memberId, a.assignment);
        for (const m of group.allMembers()) if (!assignment.has(m.memberId)) assignment.set(m.memberId, EMPTY_ASSIGNMENT);
        const generationId = request.generationId;
        // Stored to the log before anyone gets it.
        this.write(group.partition, [groupMetadataRecord(group.groupId, this.groupMetadataValue(group, assignment))], (writeError) => {
          // Another member may have joined meanwhile: act only if nothing moved.
          if (this.groups.get(group.groupId) !== group || !group.isInState('CompletingRebalance') || group.generationId !== generationId) return;
          if (writeError !== Errors.NONE) {
            this.resetAndPropagateAssignmentWithError(group, writeError);
            this.maybePrepareRebalanceOrCompleteJoin(group);
            return;
          }
          this.setAndPropagateAssignment(group, assignment);
          group.transitionTo('Stable', this.host.nowMs());
          this.history({ type: 'group-stable', groupId: group.groupId, generationId: group.generationId, assignments: this.assignmentsOf(group) });
        });
        return;
      }
      case 'Stable': {
        this.removePendingSyncMember(group, memberId);
        const member = group.member(memberId) as ClassicGroupMember;
        return responder({ error: Errors.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment });
      }
      default:
        throw new Error(`IllegalStateException: Reached unexpected condition for ${group.state} group ${group.groupId}`);
    }
  }

  /** GroupMetadataManager.validateSyncGroup. */
  private validateSyncGroup(group: ClassicGroup, request: SyncGroupRequest): ErrorCode {
    if (group.isInState('Dead')) return Errors.COORDINATOR_NOT_AVAILABLE;
    try {
      group.validateMember(request.memberId, request.groupInstanceId);
    } catch (e) {
      if (!(e instanceof GroupApiError)) throw e;
      return e.error;
    }
    if (request.generationId !== group.generationId) return Errors.ILLEGAL_GENERATION;
    // isProtocolInconsistent: a value sent must match the group's.
    if ((request.protocolType !== null && request.protocolType !== group.protocolType) || (request.protocolName !== null && request.protocolName !== group.protocolName)) {
      return Errors.INCONSISTENT_GROUP_PROTOCOL;
    }
    return Errors.NONE;
  }

  /** GroupMetadataManager.removePendingSyncMember. */
  private removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.removePendingSyncMember(memberId);
    switch (group.state) {
      case 'Dead':
      case 'Empty':
      case 'PreparingRebalance':
        this.cancelTimer(syncKey(group.groupId));
        break;
      case 'CompletingRebalance':
      case 'Stable':
        if (group.hasReceivedSyncFromAllMembers()) this.cancelTimer(syncKey(group.groupId));
        break;
    }
  }

  /** GroupCoordinatorService.heartbeat, then GroupMetadataManager.classicGroupHeartbeat. */
  handleHeartbeat(request: HeartbeatRequest, respond: (response: HeartbeatResponse) => void): void {
    const reply = (error: ErrorCode): void => respond({ type: 'HeartbeatResponse', correlationId: request.correlationId, error, sizeBytes: groupWireSize(0) });
    if (!this.active) return reply(Errors.COORDINATOR_NOT_AVAILABLE);
    if (request.groupId === '') return reply(Errors.INVALID_GROUP_ID);
    const err = this.partitionError(request.groupId);
    // While the partition loads, the service answers heartbeats blindly with NONE.
    if (err === Errors.COORDINATOR_LOAD_IN_PROGRESS) return reply(Errors.NONE);
    if (err !== Errors.NONE) return reply(err);
    const group = this.groups.get(request.groupId);
    if (group === undefined) return reply(Errors.UNKNOWN_MEMBER_ID);
    // validateClassicGroupHeartbeat
    if (group.isInState('Dead')) return reply(Errors.COORDINATOR_NOT_AVAILABLE);
    try {
      group.validateMember(request.memberId, request.groupInstanceId);
    } catch (e) {
      if (!(e instanceof GroupApiError)) throw e;
      return reply(e.error);
    }
    if (request.generationId !== group.generationId) return reply(Errors.ILLEGAL_GENERATION);
    const member = group.member(request.memberId) as ClassicGroupMember;
    switch (group.state) {
      case 'Empty':
        return reply(Errors.UNKNOWN_MEMBER_ID);
      case 'PreparingRebalance':
        this.rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return reply(Errors.REBALANCE_IN_PROGRESS);
      default:
        // CompletingRebalance and Stable: a normal heartbeat.
        this.rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return reply(Errors.NONE);
    }
  }

  /** GroupCoordinatorService.leaveGroup, then GroupMetadataManager.classicGroupLeave. */
  handleLeaveGroup(request: LeaveGroupRequest, respond: (response: LeaveGroupResponse) => void): void {
    const reply = (error: ErrorCode, members: LeaveGroupResponse['members']): void =>
      respond({ type: 'LeaveGroupResponse', correlationId: request.correlationId, error, members, sizeBytes: groupWireSize(members.length) });
    if (!this.active) return reply(Errors.COORDINATOR_NOT_AVAILABLE, []);
    if (request.groupId === '') return reply(Errors.INVALID_GROUP_ID, []);
    const err = this.partitionError(request.groupId);
    if (err !== Errors.NONE) return reply(err, []);
    const group = this.groups.get(request.groupId);
    if (group === undefined) {
      // The group was not found: UNKNOWN_MEMBER_ID for every member.
      return reply(
        Errors.NONE,
        request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, error: Errors.UNKNOWN_MEMBER_ID })),
      );
    }
    if (group.isInState('Dead')) return reply(Errors.COORDINATOR_NOT_AVAILABLE, []);
    const responses: { memberId: string; groupInstanceId: string | null; error: ErrorCode }[] = [];
    let validLeaves = 0;
    for (const m of request.members) {
      let error: ErrorCode = Errors.NONE;
      if (m.memberId === UNKNOWN_MEMBER_ID) {
        // Administrative removal of a static member by instance id.
        const staticId = m.groupInstanceId !== null ? group.staticMemberId(m.groupInstanceId) : undefined;
        if (staticId !== undefined) this.removeCurrentMemberFromClassicGroup(group, staticId);
        else error = Errors.UNKNOWN_MEMBER_ID;
      } else if (group.isPendingMember(m.memberId)) {
        group.remove(m.memberId);
        this.cancelTimer(heartbeatKey(group.groupId, m.memberId));
      } else {
        try {
          group.validateMember(m.memberId, m.groupInstanceId);
          this.removeCurrentMemberFromClassicGroup(group, m.memberId);
        } catch (e) {
          if (!(e instanceof GroupApiError)) throw e;
          error = e.error;
        }
      }
      if (error === Errors.NONE) validLeaves++;
      responses.push({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, error });
    }
    if (validLeaves > 0) {
      if (group.isInState('Stable') || group.isInState('CompletingRebalance')) this.maybePrepareRebalanceOrCompleteJoin(group);
      else if (group.isInState('PreparingRebalance')) this.maybeCompleteJoinPhase(group);
    }
    reply(Errors.NONE, responses);
  }

  /** GroupMetadataManager.removeCurrentMemberFromClassicGroup. */
  private removeCurrentMemberFromClassicGroup(group: ClassicGroup, memberId: string): void {
    const member = group.member(memberId) as ClassicGroupMember;
    this.cancelTimer(heartbeatKey(group.groupId, memberId));
    group.completeJoinFuture(member, joinError(UNKNOWN_MEMBER_ID, Errors.UNKNOWN_MEMBER_ID));
    group.remove(memberId);
    this.history({ type: 'group-member-removed', groupId: group.groupId, memberId, reason: 'leave-group' });
  }

  /** GroupCoordinatorService.commitOffsets, then OffsetMetadataManager.commitOffset. */
  handleOffsetCommit(request: OffsetCommitRequest, respond: (response: OffsetCommitResponse) => void): void {
    const replyAll = (error: ErrorCode): void =>
      respond({
        type: 'OffsetCommitResponse',
        correlationId: request.correlationId,
        topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, error })) })),
        sizeBytes: groupWireSize(request.topics.reduce((n, t) => n + t.partitions.length, 0)),
      });
    if (!this.active) return replyAll(Errors.COORDINATOR_NOT_AVAILABLE);
    if (request.groupId === '') return replyAll(Errors.INVALID_GROUP_ID);
    const err = this.partitionError(request.groupId);
    if (err !== Errors.NONE) return replyAll(err);

    // OffsetMetadataManager.validateOffsetCommit
    let group = this.groups.get(request.groupId);
    let createdGroup: ClassicGroup | null = null;
    if (group === undefined) {
      // A commit with generation -1 for an unknown group creates a "simple" group; otherwise
      // OffsetCommit v9+ answers GROUP_ID_NOT_FOUND.
      if (request.generationIdOrMemberEpoch >= 0) return replyAll(Errors.GROUP_ID_NOT_FOUND);
      group = createdGroup = this.createGroup(request.groupId, this.partitionFor(request.groupId));
    }
    try {
      group.validateOffsetCommit(request.memberId, request.groupInstanceId, request.generationIdOrMemberEpoch);
    } catch (e) {
      if (!(e instanceof GroupApiError)) throw e;
      return replyAll(e.error);
    }
    // In the classic protocol an offset commit keeps the member's session alive.
    if (group.isInState('Stable') || group.isInState('PreparingRebalance')) {
      const member = group.member(request.memberId);
      if (member !== undefined) this.rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
    }
    const { response, records } = this.offsets.prepareCommit(request, this.host.nowMs());
    const reply = (): void =>
      respond({ type: 'OffsetCommitResponse', correlationId: request.correlationId, topics: response, sizeBytes: groupWireSize(records.length) });
    if (records.length === 0) return reply();
    const partition = group.partition;
    const committedGroup = group;
    this.write(partition, records, (error) => {
      if (error !== Errors.NONE) {
        if (createdGroup !== null && this.groups.get(createdGroup.groupId) === createdGroup && !this.offsets.hasOffsets(createdGroup.groupId) && createdGroup.numMembers() === 0) {
          this.removeGroup(createdGroup);
        }
        return replyAll(error);
      }
      if (this.partitions.get(partition) === 'active') {
        for (const r of records) {
          this.offsets.replay(r.key, r.value);
          this.history({
            type: 'offset-commit',
            groupId: committedGroup.groupId,
            topic: r.key.topic,
            partition: r.key.partition,
            offset: r.value?.offset,
            generationId: request.generationIdOrMemberEpoch,
            memberId: request.memberId,
            coordinatorPartition: partition,
          });
        }
      }
      reply();
    });
  }

  /** GroupCoordinatorService.fetchOffsets / fetchAllOffsets, then OffsetMetadataManager.fetchOffsets. */
  handleOffsetFetch(request: OffsetFetchRequest, respond: (response: OffsetFetchResponse) => void): void {
    const reply = (error: ErrorCode, topics: OffsetFetchResponse['topics']): void =>
      respond({
        type: 'OffsetFetchResponse',
        correlationId: request.correlationId,
        groupId: request.groupId,
        error,
        topics,
        sizeBytes: groupWireSize(topics.reduce((n, t) => n + t.partitions.length, 0)),
      });
    if (!this.active) return reply(Errors.COORDINATOR_NOT_AVAILABLE, []);
    if (request.groupId === '') return reply(Errors.INVALID_GROUP_ID, []);
    const err = this.partitionError(request.groupId);
    if (err !== Errors.NONE) return reply(err, []);
    // validateOffsetFetch: a missing or Dead group answers INVALID_OFFSET for every partition.
    const group = this.groups.get(request.groupId);
    const exists = group !== undefined && !group.isInState('Dead');
    // No transactional offsets in the model, so requireStable never meets UNSTABLE_OFFSET_COMMIT.
    reply(Errors.NONE, this.offsets.fetch(request, exists));
  }

  // ------------------------------------------------------------ timers

  /** The host fires a timer the coordinator set. */
  onTimer(name: string, data: unknown): void {
    const d = data as TimerData;
    const t = this.timers.get(d.key);
    if (t === undefined || t.seq !== d.seq) return;
    this.timers.delete(d.key);
    if (name === GROUP_METADATA_EXPIRATION_TIMER && d.op === 'expiration') return this.cleanupGroupMetadata(d.partition);
    const group = this.groups.get((d as { groupId: string }).groupId);
    if (group === undefined) return;
    switch (d.op) {
      case 'join':
        this.completeClassicGroupJoin(group);
        return;
      case 'initial-join':
        this.tryCompleteInitialRebalanceElseSchedule(group, d.delayMs, d.remainingMs);
        return;
      case 'sync':
        this.expirePendingSync(group, d.generationId);
        return;
      case 'heartbeat':
        this.expireHeartbeat(group, d.memberId);
        return;
    }
  }

  /** CoordinatorTimer.schedule: replaces a timer with the same key; only for groups still owned. */
  private scheduleTimer(partition: number, key: string, delayMs: number, spec: TimerSpec, group: ClassicGroup | null): void {
    if (group !== null && this.groups.get(group.groupId) !== group) return;
    if (this.partitions.get(partition) !== 'active') return;
    this.cancelTimer(key);
    const seq = ++this.timerSeq;
    const name =
      spec.op === 'heartbeat' ? GROUP_HEARTBEAT_TIMER : spec.op === 'sync' ? GROUP_SYNC_TIMER : spec.op === 'expiration' ? GROUP_METADATA_EXPIRATION_TIMER : GROUP_JOIN_TIMER;
    const hostId = this.host.setTimer(name, delayMs, { ...spec, key, seq } as TimerData);
    this.timers.set(key, { hostId, seq, partition });
  }

  private cancelTimer(key: string): void {
    const t = this.timers.get(key);
    if (t === undefined) return;
    this.timers.delete(key);
    this.host.cancelTimer(t.hostId);
  }

  /** GroupMetadataManager.rescheduleClassicGroupMemberHeartbeat. */
  private rescheduleHeartbeat(group: ClassicGroup, member: ClassicGroupMember, timeoutMs: number): void {
    this.scheduleTimer(group.partition, heartbeatKey(group.groupId, member.memberId), timeoutMs, { op: 'heartbeat', groupId: group.groupId, memberId: member.memberId }, group);
  }

  private scheduleMetadataExpiration(partition: number): void {
    this.scheduleTimer(partition, expirationKey(partition), this.config['offsets.retention.check.interval.ms'], { op: 'expiration', partition }, null);
  }

  /**
   * GroupCoordinatorShard.cleanupGroupMetadata: tombstones for expired offsets
   * (offsets.retention.minutes), and for empty groups left without offsets; then reschedules.
   */
  private cleanupGroupMetadata(partition: number): void {
    if (this.partitions.get(partition) !== 'active') return;
    const nowMs = this.host.nowMs();
    const retentionMs = this.config['offsets.retention.minutes'] * 60_000;
    const records: GroupRecord[] = [];
    for (const group of this.groups.values()) {
      if (group.partition !== partition) continue;
      const offsetRecords: OffsetCommitRecord[] = [];
      // Offsets of topics a Stable consumer group subscribes to never expire.
      const subscribed = group.isInState('Stable') ? this.subscribedTopics(group) : null;
      const allExpired = this.offsets.cleanupExpiredOffsets(group.groupId, this.offsetExpirationBase(group), nowMs, retentionMs, offsetRecords, subscribed);
      records.push(...offsetRecords);
      // GroupMetadataManager.maybeDeleteGroup: an Empty group left without offsets is deleted.
      if (allExpired && group.isEmpty()) records.push(groupMetadataTombstone(group.groupId));
    }
    this.scheduleMetadataExpiration(partition);
    if (records.length === 0) return;
    this.write(partition, records, (error) => {
      if (error !== Errors.NONE || this.partitions.get(partition) !== 'active') return;
      for (const r of records) {
        if (r.type === 'OffsetCommit') this.offsets.replay(r.key, r.value);
        else {
          const g = this.groups.get(r.key.group);
          if (g !== undefined && g.isEmpty() && !this.offsets.hasOffsets(g.groupId)) this.removeGroup(g);
        }
      }
    });
  }

  /** ClassicGroup.offsetExpirationCondition: the base timestamp of the retention, or null when offsets do not expire. */
  private offsetExpirationBase(group: ClassicGroup): ((o: OffsetAndMetadata) => number) | null {
    if (group.protocolType === null) return (o) => o.commitTimestampMs;
    if (group.isInState('Empty')) {
      const since = group.currentStateTimestampMs;
      return () => since;
    }
    if (group.protocolType === 'consumer' && group.isInState('Stable') && this.subscribedTopics(group) !== null) return (o) => o.commitTimestampMs;
    return null;
  }

  /** ClassicGroup.computeSubscribedTopics for the consumer protocol, null when unknown. */
  private subscribedTopics(group: ClassicGroup): Set<string> | null {
    if (group.protocolType !== 'consumer' || group.protocolName === null) return null;
    const topics = new Set<string>();
    for (const m of group.allMembers()) for (const t of m.metadata(group.protocolName).topics) topics.add(t);
    return topics;
  }

  // ------------------------------------------------------------ helpers

  private createGroup(groupId: string, partition: number): ClassicGroup {
    const group = new ClassicGroup(groupId, partition, 'Empty', this.host.nowMs());
    group.onTransition = this.onTransition;
    this.groups.set(groupId, group);
    return group;
  }

  private removeGroup(group: ClassicGroup): void {
    if (this.groups.get(group.groupId) !== group) return;
    this.groups.delete(group.groupId);
    for (const [key, t] of [...this.timers]) {
      if (key === joinKey(group.groupId) || key === syncKey(group.groupId) || key.startsWith(`heartbeat-${group.groupId}-`)) {
        if (t.partition !== group.partition) continue;
        this.timers.delete(key);
        this.host.cancelTimer(t.hostId);
      }
    }
  }

  /** Appends records through the host; `onDone` gets NONE or the translated error, exactly once. */
  private write(partition: number, records: readonly GroupRecord[], onDone: (error: ErrorCode) => void): void {
    const id = ++this.writeSeq;
    this.pendingWrites.set(id, { partition, onDone });
    this.host.append(partition, records, (error) => {
      const w = this.pendingWrites.get(id);
      if (w === undefined) return;
      this.pendingWrites.delete(id);
      w.onDone(error === Errors.NONE ? Errors.NONE : appendErrorToResponseError(error));
    });
  }

  /** GroupCoordinatorRecordHelpers.newEmptyGroupMetadataRecord. */
  private emptyGroupMetadataValue(group: ClassicGroup): GroupMetadataValue {
    return { protocolType: group.protocolType ?? '', generation: 0, protocol: null, leader: null, currentStateTimestamp: group.currentStateTimestampMs, members: [] };
  }

  /** GroupCoordinatorRecordHelpers.newGroupMetadataRecord. */
  private groupMetadataValue(group: ClassicGroup, assignment: ReadonlyMap<string, MemberAssignment>): GroupMetadataValue {
    const members: GroupMetadataMember[] = [];
    for (const m of group.allMembers()) {
      if (!assignment.has(m.memberId)) throw new Error(`IllegalStateException: Attempted to write member ${m.memberId} of group ${group.groupId} with no assignment.`);
      members.push({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadata(group.protocolName),
        assignment: assignment.get(m.memberId) ?? EMPTY_ASSIGNMENT,
      });
    }
    return {
      protocolType: group.protocolType ?? '',
      generation: group.generationId,
      protocol: group.protocolName,
      leader: group.leaderId,
      currentStateTimestamp: group.currentStateTimestampMs,
      members,
    };
  }

  private assignmentsOf(group: ClassicGroup): Record<string, readonly { topic: string; partition: number }[]> {
    const out: Record<string, readonly { topic: string; partition: number }[]> = {};
    for (const m of group.allMembers()) out[m.memberId] = m.assignment?.partitions ?? [];
    return out;
  }

  private history(entry: GroupHistoryEntry): void {
    this.host.record?.(entry);
  }
}
