import { Errors, type ErrorCode } from '../protocol/errors.js';
import {
  EMPTY_ASSIGNMENT,
  type JoinGroupRequestProtocol,
  type JoinGroupResponseMember,
  type MemberAssignment,
} from '../protocol/group-messages.js';
import { ClassicGroupMember, plainProtocolSet, type JoinGroupResponseData, type SyncGroupResponseData } from './classic-group-member.js';

/**
 * ClassicGroupState (group-coordinator/.../classic/ClassicGroupState.java), with Kafka's names.
 */
export type ClassicGroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const CLASSIC_GROUP_STATES: readonly ClassicGroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

/** ClassicGroupState's static block: the states a group must be in to move to each state. */
export const VALID_PREVIOUS_STATES: Readonly<Record<ClassicGroupState, ReadonlySet<ClassicGroupState>>> = {
  Empty: new Set(['PreparingRebalance']),
  PreparingRebalance: new Set(['Stable', 'CompletingRebalance', 'Empty']),
  CompletingRebalance: new Set(['PreparingRebalance']),
  Stable: new Set(['CompletingRebalance']),
  Dead: new Set(['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead']),
};

export function isValidTransition(from: ClassicGroupState, to: ClassicGroupState): boolean {
  return VALID_PREVIOUS_STATES[to].has(from);
}

/** A Kafka ApiException that a handler turns into an error code (Errors.forException). */
export class GroupApiError extends Error {
  constructor(readonly error: ErrorCode) {
    super(`group error ${error}`);
  }
}

/** Observes state transitions (for the history and the transition checker). */
export type TransitionListener = (group: ClassicGroup, from: ClassicGroupState, to: ClassicGroupState) => void;

/**
 * A classic group (group-coordinator/.../classic/ClassicGroup.java): members, static members,
 * pending members, protocol votes and the state machine. Members are kept in insertion order, so
 * where Kafka iterates a HashMap (the new leader after a removal, vote ties) the model picks the
 * earliest member, deterministically.
 */
export class ClassicGroup {
  private stateValue: ClassicGroupState;
  private previousStateValue: ClassicGroupState = 'Dead';
  currentStateTimestampMs: number;
  protocolType: string | null;
  protocolName: string | null;
  generationId: number;
  leaderId: string | null;
  readonly members = new Map<string, ClassicGroupMember>();
  /** group.instance.id → member id. */
  private readonly staticMembers = new Map<string, string>();
  /** Members who got a member id (MEMBER_ID_REQUIRED) and have yet to join with it. */
  private readonly pendingJoinMembers = new Set<string>();
  private numMembersAwaitingJoinResponse = 0;
  /** Protocol name → how many members support it. */
  private readonly supportedProtocolCounts = new Map<string, number>();
  /** Members who have yet to send SyncGroup in this generation. */
  private readonly pendingSyncMembers = new Set<string>();
  /** Set when a member joins during the initial rebalance, to delay it further (InitialDelayedJoin). */
  newMemberAdded = false;
  onTransition: TransitionListener | null = null;

  constructor(
    readonly groupId: string,
    /** The __consumer_offsets partition that owns this group. */
    readonly partition: number,
    initialState: ClassicGroupState,
    nowMs: number,
    init: { generationId?: number; protocolType?: string | null; protocolName?: string | null; leaderId?: string | null; currentStateTimestampMs?: number } = {},
  ) {
    this.stateValue = initialState;
    this.generationId = init.generationId ?? 0;
    this.protocolType = init.protocolType ?? null;
    this.protocolName = init.protocolName ?? null;
    this.leaderId = init.leaderId ?? null;
    this.currentStateTimestampMs = init.currentStateTimestampMs ?? nowMs;
  }

  get state(): ClassicGroupState {
    return this.stateValue;
  }

  get previousState(): ClassicGroupState {
    return this.previousStateValue;
  }

  isInState(s: ClassicGroupState): boolean {
    return this.stateValue === s;
  }

  /** Group.isEmpty for a classic group: in state Empty. */
  isEmpty(): boolean {
    return this.stateValue === 'Empty';
  }

  hasMember(memberId: string): boolean {
    return this.members.has(memberId);
  }

  member(memberId: string): ClassicGroupMember | undefined {
    return this.members.get(memberId);
  }

  numMembers(): number {
    return this.members.size;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId !== null && this.leaderId === memberId;
  }

  /** ClassicGroup.add. */
  add(member: ClassicGroupMember, awaitingJoin: ((data: JoinGroupResponseData) => void) | null = null): void {
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) {
        throw new Error(`IllegalStateException: Static member with groupInstanceId=${member.groupInstanceId} cannot be added to group ${this.groupId} since it is already a member.`);
      }
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.protocolType !== member.protocolType) throw new Error("IllegalStateException: The group and member's protocol type must be the same.");
    if (!this.supportsProtocols(member.protocolType, plainProtocolSet(member.supportedProtocols))) {
      throw new Error("IllegalStateException: None of the member's protocols can be supported.");
    }
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    this.incrementSupportedProtocols(member);
    member.awaitingJoin = awaitingJoin;
    if (member.isAwaitingJoin()) this.numMembersAwaitingJoinResponse++;
    this.pendingJoinMembers.delete(member.memberId);
  }

  /** ClassicGroup.remove: the new leader is the first remaining member. */
  remove(memberId: string): void {
    const removed = this.members.get(memberId);
    if (removed !== undefined) {
      this.members.delete(memberId);
      this.decrementSupportedProtocols(removed);
      if (removed.isAwaitingJoin()) this.numMembersAwaitingJoinResponse--;
      if (removed.groupInstanceId !== null) this.staticMembers.delete(removed.groupInstanceId);
    }
    if (this.isLeader(memberId)) {
      const next = this.members.keys().next();
      this.leaderId = next.done ? null : next.value;
    }
    this.pendingJoinMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
  }

  /**
   * ClassicGroup.maybeElectNewJoinedLeader: keep the leader if it rejoined, else elect the first
   * member that did. False when the group has no leader or no member rejoined.
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const currentLeader = this.members.get(this.leaderId);
    if (currentLeader !== undefined && currentLeader.isAwaitingJoin()) return true;
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin()) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  /**
   * ClassicGroup.replaceStaticMember: the rejoining static member takes over the old member's
   * place (and assignment) under a new member id; the old id's parked join/sync get FENCED_INSTANCE_ID.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): ClassicGroupMember {
    const removed = this.members.get(oldMemberId);
    if (removed === undefined) throw new Error(`IllegalArgumentException: Cannot replace non-existing member id ${oldMemberId}`);
    this.members.delete(oldMemberId);
    this.completeJoinFuture(removed, {
      error: Errors.FENCED_INSTANCE_ID,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      skipAssignment: false,
      memberId: oldMemberId,
      members: [],
    });
    this.completeSyncFuture(removed, { error: Errors.FENCED_INSTANCE_ID, protocolType: null, protocolName: null, assignment: EMPTY_ASSIGNMENT });
    const member = new ClassicGroupMember(
      newMemberId,
      removed.groupInstanceId,
      removed.clientId,
      removed.clientHost,
      removed.rebalanceTimeoutMs,
      removed.sessionTimeoutMs,
      removed.protocolType,
      removed.supportedProtocols,
      removed.assignment,
    );
    this.members.set(newMemberId, member);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    return member;
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingJoinMembers.has(memberId);
  }

  addPendingMember(memberId: string): boolean {
    if (this.hasMember(memberId)) throw new Error(`IllegalStateException: Attempt to add pending member ${memberId} which is already a stable member of the group.`);
    const had = this.pendingJoinMembers.has(memberId);
    this.pendingJoinMembers.add(memberId);
    return !had;
  }

  numPendingJoinMembers(): number {
    return this.pendingJoinMembers.size;
  }

  addPendingSyncMember(memberId: string): boolean {
    if (!this.hasMember(memberId)) throw new Error(`IllegalStateException: Attempt to add pending sync member ${memberId} which is not a member of the group.`);
    const had = this.pendingSyncMembers.has(memberId);
    this.pendingSyncMembers.add(memberId);
    return !had;
  }

  removePendingSyncMember(memberId: string): boolean {
    if (!this.hasMember(memberId)) throw new Error(`IllegalStateException: Attempt to remove pending sync member ${memberId} which is not a member of the group.`);
    return this.pendingSyncMembers.delete(memberId);
  }

  hasReceivedSyncFromAllMembers(): boolean {
    return this.pendingSyncMembers.size === 0;
  }

  allPendingSyncMembers(): string[] {
    return [...this.pendingSyncMembers];
  }

  clearPendingSyncMembers(): void {
    this.pendingSyncMembers.clear();
  }

  hasStaticMember(groupInstanceId: string): boolean {
    return this.staticMembers.has(groupInstanceId);
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  allStaticMemberIds(): string[] {
    return [...this.staticMembers.values()];
  }

  /** ClassicGroup.notYetRejoinedMembers. */
  notYetRejoinedMembers(): ClassicGroupMember[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin());
  }

  /** ClassicGroup.hasAllMembersJoined. */
  hasAllMembersJoined(): boolean {
    return this.members.size === this.numMembersAwaitingJoinResponse && this.pendingJoinMembers.size === 0;
  }

  numAwaitingJoinResponse(): number {
    return this.numMembersAwaitingJoinResponse;
  }

  /** The max of the members' rebalance timeouts (ClassicGroup.rebalanceTimeoutMs). */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /**
   * ClassicGroup.validateMember: the instance id must map to this member id (else
   * FENCED_INSTANCE_ID, or UNKNOWN_MEMBER_ID for an unknown instance id), and the member must exist.
   */
  validateMember(memberId: string, groupInstanceId: string | null): void {
    if (groupInstanceId !== null) {
      const existing = this.staticMembers.get(groupInstanceId);
      if (existing === undefined) throw new GroupApiError(Errors.UNKNOWN_MEMBER_ID);
      if (existing !== memberId) throw new GroupApiError(Errors.FENCED_INSTANCE_ID);
    }
    if (!this.hasMember(memberId)) throw new GroupApiError(Errors.UNKNOWN_MEMBER_ID);
  }

  /** ClassicGroup.validateOffsetCommit, for a non-transactional commit. */
  validateOffsetCommit(memberId: string, groupInstanceId: string | null, generationId: number): void {
    if (this.isInState('Dead')) throw new GroupApiError(Errors.COORDINATOR_NOT_AVAILABLE);
    // generation -1 in an Empty group: the admin client or a consumer outside group management.
    if (generationId < 0 && this.isInState('Empty')) return;
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      this.validateMember(memberId, groupInstanceId);
      if (generationId !== this.generationId) throw new GroupApiError(Errors.ILLEGAL_GENERATION);
    } else if (!this.isInState('Empty')) {
      // Without member id and generation, commits are only accepted when the group is empty.
      throw new GroupApiError(Errors.UNKNOWN_MEMBER_ID);
    }
    if (this.isInState('CompletingRebalance')) throw new GroupApiError(Errors.REBALANCE_IN_PROGRESS);
  }

  /** ClassicGroup.isStaticMemberFenced. */
  isStaticMemberFenced(groupInstanceId: string, memberId: string): boolean {
    const existing = this.staticMembers.get(groupInstanceId);
    return existing !== undefined && existing !== memberId;
  }

  /** ClassicGroup.canRebalance: PreparingRebalance may follow the current state. */
  canRebalance(): boolean {
    return VALID_PREVIOUS_STATES.PreparingRebalance.has(this.stateValue);
  }

  /** ClassicGroup.transitionTo, with assertValidTransition. */
  transitionTo(to: ClassicGroupState, nowMs: number): void {
    const from = this.stateValue;
    if (!isValidTransition(from, to)) {
      throw new Error(
        `IllegalStateException: Group ${this.groupId} should be in one of [${[...VALID_PREVIOUS_STATES[to]].join(', ')}] states before moving to ${to} state. Instead it is in ${from} state.`,
      );
    }
    this.previousStateValue = from;
    this.stateValue = to;
    this.currentStateTimestampMs = nowMs;
    this.onTransition?.(this, from, to);
  }

  /**
   * ClassicGroup.selectProtocol: among the protocols every member supports, each member votes
   * for its most preferred; the most votes wins (ties: the first voted, in member order).
   */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error('IllegalStateException: Cannot select protocol for empty group');
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const name = m.vote(candidates);
      votes.set(name, (votes.get(name) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best as string;
  }

  private candidateProtocols(): Set<string> {
    const out = new Set<string>();
    for (const [name, n] of this.supportedProtocolCounts) if (n === this.members.size) out.add(name);
    return out;
  }

  private incrementSupportedProtocols(member: ClassicGroupMember): void {
    for (const p of member.supportedProtocols) this.supportedProtocolCounts.set(p.name, (this.supportedProtocolCounts.get(p.name) ?? 0) + 1);
  }

  private decrementSupportedProtocols(member: ClassicGroupMember): void {
    for (const p of member.supportedProtocols) this.supportedProtocolCounts.set(p.name, (this.supportedProtocolCounts.get(p.name) ?? 0) - 1);
  }

  /**
   * ClassicGroup.supportsProtocols: an Empty group accepts any non-empty protocol type and list;
   * otherwise the type must match and one protocol must be supported by every member.
   */
  supportsProtocols(memberProtocolType: string, memberProtocols: ReadonlySet<string>): boolean {
    if (this.isInState('Empty')) return memberProtocolType !== '' && memberProtocols.size > 0;
    if (this.protocolType === null || this.protocolType !== memberProtocolType) return false;
    for (const name of memberProtocols) if ((this.supportedProtocolCounts.get(name) ?? 0) === this.members.size) return true;
    return false;
  }

  /** ClassicGroup.updateMember. */
  updateMember(
    member: ClassicGroupMember,
    protocols: readonly JoinGroupRequestProtocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    awaitingJoin: ((data: JoinGroupResponseData) => void) | null,
  ): void {
    this.decrementSupportedProtocols(member);
    member.supportedProtocols = protocols;
    this.incrementSupportedProtocols(member);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (awaitingJoin !== null && !member.isAwaitingJoin()) this.numMembersAwaitingJoinResponse++;
    else if (awaitingJoin === null && member.isAwaitingJoin()) this.numMembersAwaitingJoinResponse--;
    member.awaitingJoin = awaitingJoin;
  }

  /** ClassicGroup.completeJoinFuture. */
  completeJoinFuture(member: ClassicGroupMember, response: JoinGroupResponseData): boolean {
    const f = member.awaitingJoin;
    if (f === null) return false;
    member.awaitingJoin = null;
    this.numMembersAwaitingJoinResponse--;
    f(response);
    return true;
  }

  /** ClassicGroup.completeSyncFuture. */
  completeSyncFuture(member: ClassicGroupMember, response: SyncGroupResponseData): boolean {
    const f = member.awaitingSync;
    if (f === null) return false;
    member.awaitingSync = null;
    f(response);
    return true;
  }

  /** ClassicGroup.initNextGeneration. */
  initNextGeneration(nowMs: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo('CompletingRebalance', nowMs);
    } else {
      this.protocolName = null;
      this.transitionTo('Empty', nowMs);
    }
    this.clearPendingSyncMembers();
  }

  /** ClassicGroup.currentClassicGroupMembers: the members as the leader's JoinGroup response lists them. */
  currentClassicGroupMembers(): JoinGroupResponseMember[] {
    if (this.isInState('Dead') || this.isInState('PreparingRebalance')) {
      throw new Error(`IllegalStateException: Cannot obtain classic member metadata for group ${this.groupId} in state ${this.stateValue}`);
    }
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata(this.protocolName) }));
  }

  /** ClassicGroup.groupAssignment. */
  groupAssignment(): Map<string, MemberAssignment> {
    const out = new Map<string, MemberAssignment>();
    for (const m of this.members.values()) out.set(m.memberId, m.assignment);
    return out;
  }

  allMembers(): IterableIterator<ClassicGroupMember> {
    return this.members.values();
  }
}
