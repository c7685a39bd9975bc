import { describe, expect, it } from 'vitest';
import { Errors } from '../../../src/kafka/protocol/errors.js';
import {
  CLASSIC_GROUP_STATES,
  ClassicGroup,
  GroupApiError,
  VALID_PREVIOUS_STATES,
  isValidTransition,
  type ClassicGroupState,
} from '../../../src/kafka/group/classic-group.js';
import { ClassicGroupMember, type JoinGroupResponseData, type SyncGroupResponseData } from '../../../src/kafka/group/classic-group-member.js';
import type { JoinGroupRequestProtocol } from '../../../src/kafka/protocol/group-messages.js';

/** Ports of group-coordinator/src/test/java/org/apache/kafka/coordinator/group/classic/ClassicGroupTest.java. */

const protocolType = 'consumer';
const groupInstanceId = 'groupInstanceId';
const memberId = 'memberId';

function protocols(...names: string[]): JoinGroupRequestProtocol[] {
  return names.map((name) => ({ name, metadata: { topics: [] } }));
}

function newMember(id: string, names: string[] = ['roundrobin'], instanceId: string | null = null): ClassicGroupMember {
  return new ClassicGroupMember(id, instanceId, 'clientId', 'clientHost', 60_000, 10_000, protocolType, protocols(...names));
}

function newGroup(): ClassicGroup {
  return new ClassicGroup('groupId', 0, 'Empty', 0);
}

function errorOf(f: () => void): number | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as GroupApiError).error;
  }
}

describe('ClassicGroupState transitions (ClassicGroupState.validPreviousStates)', () => {
  // The full table: allowed[to] = the states from which `to` may be entered.
  const allowed: Record<ClassicGroupState, ClassicGroupState[]> = {
    Empty: ['PreparingRebalance'],
    PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
    CompletingRebalance: ['PreparingRebalance'],
    Stable: ['CompletingRebalance'],
    Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
  };
  const pairs = CLASSIC_GROUP_STATES.flatMap((from) => CLASSIC_GROUP_STATES.map((to) => [from, to] as const));

  it.each(pairs)('%s -> %s', (from, to) => {
    expect(isValidTransition(from, to)).toBe(allowed[to].includes(from));
    expect(VALID_PREVIOUS_STATES[to].has(from)).toBe(allowed[to].includes(from));
  });

  /** Drives a fresh Empty group to `state` along allowed transitions. */
  function groupIn(state: ClassicGroupState): ClassicGroup {
    const g = newGroup();
    const path: Record<ClassicGroupState, ClassicGroupState[]> = {
      Empty: [],
      PreparingRebalance: ['PreparingRebalance'],
      CompletingRebalance: ['PreparingRebalance', 'CompletingRebalance'],
      Stable: ['PreparingRebalance', 'CompletingRebalance', 'Stable'],
      Dead: ['Dead'],
    };
    for (const s of path[state]) g.transitionTo(s, 0);
    return g;
  }

  it.each(pairs)('transitionTo enforces %s -> %s', (from, to) => {
    const g = groupIn(from);
    if (allowed[to].includes(from)) {
      g.transitionTo(to, 5);
      expect(g.state).toBe(to);
      expect(g.previousState).toBe(from);
      expect(g.currentStateTimestampMs).toBe(5);
    } else {
      expect(() => g.transitionTo(to, 5)).toThrow(/IllegalStateException/);
      expect(g.state).toBe(from);
    }
  });

  it('testCanRebalanceWhenStable / WhenCompletingRebalance / testCannotRebalanceWhenPreparingRebalance / WhenDead', () => {
    expect(groupIn('Empty').canRebalance()).toBe(true);
    expect(groupIn('Stable').canRebalance()).toBe(true);
    expect(groupIn('CompletingRebalance').canRebalance()).toBe(true);
    expect(groupIn('PreparingRebalance').canRebalance()).toBe(false);
    expect(groupIn('Dead').canRebalance()).toBe(false);
  });

  it('testDeadToDeadIllegalTransition: Dead -> Dead is allowed', () => {
    const g = groupIn('Dead');
    g.transitionTo('Dead', 0);
    expect(g.state).toBe('Dead');
  });
});

describe('ClassicGroup (ClassicGroupTest)', () => {
  it('testSelectProtocol: the most votes among protocols every member supports', () => {
    const g = newGroup();
    g.add(newMember(memberId, ['range', 'roundrobin']));
    g.add(newMember('member2', ['roundrobin', 'range']));
    expect(['range', 'roundrobin']).toContain(g.selectProtocol());
    g.add(newMember('member3', ['roundrobin', 'range']));
    expect(g.selectProtocol()).toBe('roundrobin');
  });

  it('testSelectProtocolRaisesIfNoMembers', () => {
    expect(() => newGroup().selectProtocol()).toThrow(/IllegalStateException/);
  });

  it('testSelectProtocolChoosesCompatibleProtocol', () => {
    const g = newGroup();
    g.add(newMember(memberId, ['range', 'roundrobin']));
    g.add(newMember('member2', ['roundrobin', 'foo']));
    expect(g.selectProtocol()).toBe('roundrobin');
  });

  it('testSupportsProtocols', () => {
    const g = newGroup();
    expect(g.supportsProtocols(protocolType, new Set(['range', 'roundrobin']))).toBe(true);
    g.add(newMember(memberId, ['range', 'roundrobin']));
    g.transitionTo('PreparingRebalance', 0);
    expect(g.supportsProtocols(protocolType, new Set(['roundrobin', 'foo']))).toBe(true);
    expect(g.supportsProtocols(protocolType, new Set(['range', 'bar']))).toBe(true);
    expect(g.supportsProtocols(protocolType, new Set(['foo', 'bar']))).toBe(false);
  });

  it('testInitNextGeneration and testInitNextGenerationEmptyGroup', () => {
    const g = newGroup();
    g.transitionTo('PreparingRebalance', 0);
    g.add(newMember(memberId), () => {});
    expect(g.generationId).toBe(0);
    expect(g.protocolName).toBeNull();
    g.initNextGeneration(0);
    expect(g.generationId).toBe(1);
    expect(g.protocolName).toBe('roundrobin');
    expect(g.state).toBe('CompletingRebalance');

    const e = newGroup();
    e.transitionTo('PreparingRebalance', 0);
    e.initNextGeneration(0);
    expect(e.generationId).toBe(1);
    expect(e.protocolName).toBeNull();
    expect(e.state).toBe('Empty');
  });

  it('testUpdateMember', () => {
    const g = newGroup();
    const m = newMember(memberId);
    g.add(m);
    g.updateMember(m, protocols('range', 'roundrobin'), 120_000, 20_000, null);
    expect(g.rebalanceTimeoutMs()).toBe(120_000);
    expect(m.sessionTimeoutMs).toBe(20_000);
    expect(m.supportedProtocols.map((p) => p.name)).toEqual(['range', 'roundrobin']);
  });

  it('testReplaceGroupInstanceWithNonExistingMember', () => {
    expect(() => newGroup().replaceStaticMember(groupInstanceId, memberId, 'newMemberId')).toThrow(/IllegalArgumentException/);
  });

  it('testReplaceGroupInstance: the old member id is fenced, the new one leads', () => {
    const g = newGroup();
    const m = newMember(memberId, ['roundrobin'], groupInstanceId);
    let join: JoinGroupResponseData | undefined;
    let sync: SyncGroupResponseData | undefined;
    g.add(m, (r) => (join = r));
    m.awaitingSync = (r) => (sync = r);
    expect(g.isLeader(memberId)).toBe(true);
    expect(g.staticMemberId(groupInstanceId)).toBe(memberId);
    g.replaceStaticMember(groupInstanceId, memberId, 'newMemberId');
    expect(g.isLeader('newMemberId')).toBe(true);
    expect(g.staticMemberId(groupInstanceId)).toBe('newMemberId');
    expect(join?.error).toBe(Errors.FENCED_INSTANCE_ID);
    expect(sync?.error).toBe(Errors.FENCED_INSTANCE_ID);
    expect(m.isAwaitingJoin()).toBe(false);
    expect(m.isAwaitingSync()).toBe(false);
    expect(g.numAwaitingJoinResponse()).toBe(0);
  });

  it('testCompleteJoinFuture / testNotCompleteJoinFuture', () => {
    const g = newGroup();
    const m = newMember(memberId);
    let got: JoinGroupResponseData | undefined;
    g.add(m, (r) => (got = r));
    expect(g.hasAllMembersJoined()).toBe(true);
    expect(g.completeJoinFuture(m, { error: Errors.NONE, generationId: 0, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId, members: [] })).toBe(true);
    expect(got?.memberId).toBe(memberId);
    expect(m.isAwaitingJoin()).toBe(false);
    expect(g.numAwaitingJoinResponse()).toBe(0);
    expect(g.completeJoinFuture(m, { error: Errors.NONE, generationId: 0, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId, members: [] })).toBe(false);
  });

  it('testCannotAddPendingMemberIfStable / testRemovalFromPendingAfterMemberIsStable / testRemovalFromPendingWhenMemberIsRemoved', () => {
    const g = newGroup();
    g.add(newMember(memberId));
    expect(() => g.addPendingMember(memberId)).toThrow(/IllegalStateException/);

    const h = newGroup();
    h.addPendingMember(memberId);
    expect(h.hasMember(memberId)).toBe(false);
    expect(h.isPendingMember(memberId)).toBe(true);
    h.add(newMember(memberId));
    expect(h.hasMember(memberId)).toBe(true);
    expect(h.isPendingMember(memberId)).toBe(false);

    const k = newGroup();
    k.addPendingMember(memberId);
    k.remove(memberId);
    expect(k.isPendingMember(memberId)).toBe(false);
  });

  it('testCannotAddStaticMemberIfAlreadyPresent', () => {
    const g = newGroup();
    const m = newMember(memberId, ['roundrobin'], groupInstanceId);
    g.add(m);
    expect(g.hasStaticMember(groupInstanceId)).toBe(true);
    expect(() => g.add(m)).toThrow(/IllegalStateException/);
  });

  it('testCannotAddPendingSyncOfUnknownMember / testCanAddAndRemovePendingSyncMember / testNewGenerationClearsPendingSyncMembers', () => {
    const g = newGroup();
    expect(() => g.addPendingSyncMember(memberId)).toThrow(/IllegalStateException/);
    expect(() => g.removePendingSyncMember(memberId)).toThrow(/IllegalStateException/);
    g.add(newMember(memberId));
    expect(g.addPendingSyncMember(memberId)).toBe(true);
    expect(g.allPendingSyncMembers()).toEqual([memberId]);
    g.removePendingSyncMember(memberId);
    expect(g.allPendingSyncMembers()).toEqual([]);
    g.transitionTo('PreparingRebalance', 0);
    g.addPendingSyncMember(memberId);
    g.initNextGeneration(0);
    expect(g.allPendingSyncMembers()).toEqual([]);
  });

  it('testElectNewJoinedLeader / testMaybeElectNewJoinedLeaderChooseExisting', () => {
    const g = newGroup();
    g.add(newMember(memberId));
    g.add(newMember('new-leader'), () => {});
    g.add(newMember('new-member'));
    expect(g.maybeElectNewJoinedLeader()).toBe(true);
    expect(g.isLeader('new-leader')).toBe(true);

    const h = newGroup();
    h.add(newMember(memberId), () => {});
    h.add(newMember('new-member'));
    expect(h.maybeElectNewJoinedLeader()).toBe(true);
    expect(h.isLeader(memberId)).toBe(true);
  });

  it('testValidateOffsetCommit: the order of its checks', () => {
    const g = newGroup();
    // The admin client (no member, generation -1) may commit to an Empty group.
    expect(errorOf(() => g.validateOffsetCommit('', null, -1))).toBeUndefined();
    g.add(new ClassicGroupMember('member-id', 'instance-id', '', '', 100, 100, 'consumer', protocols('roundrobin')));
    g.transitionTo('PreparingRebalance', 0);
    g.initNextGeneration(0);
    expect(errorOf(() => g.validateOffsetCommit('', null, -1))).toBe(Errors.UNKNOWN_MEMBER_ID);
    expect(errorOf(() => g.validateOffsetCommit('unknown', 'unknown', -1))).toBe(Errors.UNKNOWN_MEMBER_ID);
    expect(errorOf(() => g.validateOffsetCommit('member-id', 'unknown', -1))).toBe(Errors.UNKNOWN_MEMBER_ID);
    expect(errorOf(() => g.validateOffsetCommit('member-id', 'instance-id', 0))).toBe(Errors.ILLEGAL_GENERATION);
    expect(errorOf(() => g.validateOffsetCommit('member-id', 'instance-id', 1))).toBe(Errors.REBALANCE_IN_PROGRESS);
    g.transitionTo('Stable', 0);
    expect(errorOf(() => g.validateOffsetCommit('member-id', 'instance-id', 1))).toBeUndefined();
    g.replaceStaticMember('instance-id', 'member-id', 'new-member-id');
    expect(errorOf(() => g.validateOffsetCommit('member-id', 'instance-id', 1))).toBe(Errors.FENCED_INSTANCE_ID);
    g.remove('new-member-id');
    g.transitionTo('Dead', 0);
    expect(errorOf(() => g.validateOffsetCommit('member-id', 'new-instance-id', 1))).toBe(Errors.COORDINATOR_NOT_AVAILABLE);
  });

  it('remove elects the first remaining member as leader (insertion order, deterministic)', () => {
    const g = newGroup();
    g.add(newMember('a'));
    g.add(newMember('b'));
    g.add(newMember('c'));
    g.remove('a');
    expect(g.leaderId).toBe('b');
    g.remove('b');
    g.remove('c');
    expect(g.leaderId).toBeNull();
  });
});
