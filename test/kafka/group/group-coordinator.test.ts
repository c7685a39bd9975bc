import { describe, expect, it } from 'vitest';
import { Errors } from '../../../src/kafka/protocol/errors.js';
import { UNKNOWN_MEMBER_ID } from '../../../src/kafka/protocol/group-messages.js';
import { CLASSIC_GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS, appendErrorToResponseError } from '../../../src/kafka/group/group-coordinator.js';
import { GROUP, PROTOCOLS, Rig } from './group-rig.js';

/**
 * The classic group coordinator, request by request. Test names carry the Kafka test they port
 * (group-coordinator/src/test/java/org/apache/kafka/coordinator/group/GroupMetadataManagerTest.java,
 * GroupCoordinatorServiceTest.java, and the Scala GroupCoordinatorTest they came from); expected
 * values follow GroupMetadataManager's code paths.
 */

describe('JoinGroup', () => {
  it('testJoinGroupSessionTimeoutTooSmall / TooLarge: INVALID_SESSION_TIMEOUT before anything else', () => {
    const r = new Rig();
    expect(r.join({ sessionTimeoutMs: 5999 }).value.error).toBe(Errors.INVALID_SESSION_TIMEOUT);
    expect(r.join({ sessionTimeoutMs: 1_800_001 }).value.error).toBe(Errors.INVALID_SESSION_TIMEOUT);
    expect(r.coordinator.group(GROUP)).toBeUndefined();
  });

  it('testJoinGroupInvalidGroupId: INVALID_GROUP_ID for an empty group id', () => {
    expect(new Rig().join({ groupId: '' }).value.error).toBe(Errors.INVALID_GROUP_ID);
  });

  it('testJoinGroupWrongCoordinator: NOT_COORDINATOR when the partition is not loaded; COORDINATOR_LOAD_IN_PROGRESS while loading', () => {
    const r = new Rig({}, { loadAll: false });
    expect(r.join().value.error).toBe(Errors.NOT_COORDINATOR);
    r.coordinator.beginLoad(0);
    expect(r.join().value.error).toBe(Errors.COORDINATOR_LOAD_IN_PROGRESS);
    r.coordinator.loadPartition(0, []);
    expect(r.join().value.error).toBe(Errors.MEMBER_ID_REQUIRED);
  });

  it('testJoinGroupUnknownConsumerNewGroup: a known member id for an unknown group is UNKNOWN_MEMBER_ID', () => {
    const r = new Rig();
    expect(r.join({ memberId: 'member-id' }).value.error).toBe(Errors.UNKNOWN_MEMBER_ID);
    expect(r.coordinator.group(GROUP)).toBeUndefined();
  });

  it('testNewMemberJoinsWithoutMemberId: MEMBER_ID_REQUIRED with clientId-uuid; the group is created and persisted', () => {
    const r = new Rig();
    const a = r.join({ clientId: 'my-client' });
    expect(a.value.error).toBe(Errors.MEMBER_ID_REQUIRED);
    expect(a.value.memberId).toBe('my-client-uuid1');
    const g = r.coordinator.group(GROUP)!;
    expect(g.state).toBe('Empty');
    expect(g.isPendingMember('my-client-uuid1')).toBe(true);
    expect(r.host.log(0)).toEqual([
      { type: 'GroupMetadata', key: { group: GROUP }, value: { protocolType: '', generation: 0, protocol: null, leader: null, currentStateTimestamp: 0, members: [] } },
    ]);
  });

  it('testJoinGroupInconsistentProtocolType and testJoinGroupWithEmptyProtocolType/EmptyGroupProtocol: INCONSISTENT_GROUP_PROTOCOL', () => {
    const r = new Rig();
    r.stableGroup(1);
    expect(r.join({ protocolType: 'connect' }).value.error).toBe(Errors.INCONSISTENT_GROUP_PROTOCOL);
    const fresh = new Rig();
    expect(fresh.join({ protocolType: '' }).value.error).toBe(Errors.INCONSISTENT_GROUP_PROTOCOL);
    expect(fresh.join({ protocols: [] }).value.error).toBe(Errors.INCONSISTENT_GROUP_PROTOCOL);
    // A protocol no existing member supports.
    expect(r.join({ protocols: [{ name: 'roundrobin', metadata: { topics: [] } }] }).value.error).toBe(Errors.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('testJoinGroupShouldReceiveErrorIfGroupOverMaxSize / testDynamicMembersJoinGroupWithMaxSizeAndRequiredKnownMember: GROUP_MAX_SIZE_REACHED past group.max.size', () => {
    const r = new Rig({ 'group.max.size': 2 });
    const a = r.joinDynamic({ clientId: 'a' });
    const b = r.joinDynamic({ clientId: 'b' });
    // PreparingRebalance counts the members awaiting a join response: the third is refused at once.
    const c = r.join({ clientId: 'c' });
    expect(c.value.error).toBe(Errors.GROUP_MAX_SIZE_REACHED);
    expect(c.value.memberId).toBe(UNKNOWN_MEMBER_ID);
    r.host.advance(1);
    expect(a.answer.value.error).toBe(Errors.NONE);
    expect(b.answer.value.error).toBe(Errors.NONE);
    expect(r.coordinator.group(GROUP)!.numMembers()).toBe(2);
  });

  it('testJoinGroupCompleteImmediately for one member: leader gets the member list, generation 1, protocol chosen', () => {
    const r = new Rig();
    const { memberId, answer } = r.joinDynamic();
    expect(answer.done).toBe(false);
    r.host.advance(1);
    expect(answer.value).toMatchObject({ error: Errors.NONE, generationId: 1, protocolType: 'consumer', protocolName: 'range', leader: memberId, memberId, skipAssignment: false });
    expect(answer.value.members).toEqual([{ memberId, groupInstanceId: null, metadata: PROTOCOLS[0].metadata }]);
    expect(r.coordinator.group(GROUP)!.state).toBe('CompletingRebalance');
  });

  it('testDelayInitialRebalanceByGroupInitialRebalanceDelayOnEmptyGroup: group.initial.rebalance.delay.ms', () => {
    const r = new Rig({ 'group.initial.rebalance.delay.ms': 3000 });
    const a = r.joinDynamic({ rebalanceTimeoutMs: 10_000 });
    r.host.advance(2999);
    expect(a.answer.done).toBe(false);
    r.host.advance(1);
    expect(a.answer.value.error).toBe(Errors.NONE);
  });

  it('testDelayRebalanceUptoRebalanceTimeout / testJoinGroupCompletionWhenPendingMemberJoins: new members extend the initial delay up to the rebalance timeout', () => {
    const r = new Rig({ 'group.initial.rebalance.delay.ms': 3000 });
    const a = r.joinDynamic({ rebalanceTimeoutMs: 7000, clientId: 'a' });
    r.host.advance(2000);
    const b = r.joinDynamic({ rebalanceTimeoutMs: 7000, clientId: 'b' });
    r.host.advance(1000); // t=3000: b joined during the delay, so it is extended by min(3000, 4000)
    expect(a.answer.done).toBe(false);
    r.host.advance(2999);
    expect(a.answer.done).toBe(false);
    r.host.advance(1); // t=6000: no new member since, so the join phase completes
    expect(a.answer.value.error).toBe(Errors.NONE);
    expect(b.answer.value.generationId).toBe(1);
    expect(a.answer.value.members).toHaveLength(2);
    expect(b.answer.value.members).toHaveLength(0);
  });

  it('testJoinGroupFromUnchangedFollowerDoesRebalance? No: an unchanged follower in Stable gets the current generation', () => {
    const r = new Rig();
    const { memberIds, leaderId, generationId } = r.stableGroup(2);
    const follower = memberIds.find((m) => m !== leaderId)!;
    const a = r.join({ memberId: follower, clientId: 'client1' });
    expect(a.value).toMatchObject({ error: Errors.NONE, generationId, leader: leaderId, members: [] });
    expect(r.coordinator.group(GROUP)!.state).toBe('Stable');
  });

  it('testJoinGroupFromUnchangedLeaderShouldRebalance: the leader rejoining forces a rebalance', () => {
    const r = new Rig();
    const { leaderId, generationId } = r.stableGroup(1);
    const a = r.join({ memberId: leaderId });
    expect(a.value.generationId).toBe(generationId + 1);
    expect(r.coordinator.group(GROUP)!.state).toBe('CompletingRebalance');
  });

  it('testJoinGroupExistingMemberUpdatedMetadataTriggersRebalance: a follower with new metadata forces a rebalance', () => {
    const r = new Rig();
    const { memberIds, leaderId } = r.stableGroup(2);
    const follower = memberIds.find((m) => m !== leaderId)!;
    const a = r.join({ memberId: follower, protocols: [{ name: 'range', metadata: { topics: ['foo', 'bar'] } }] });
    expect(a.done).toBe(false);
    expect(r.coordinator.group(GROUP)!.state).toBe('PreparingRebalance');
    expect(r.heartbeat(leaderId, 1).error).toBe(Errors.REBALANCE_IN_PROGRESS);
    r.join({ memberId: leaderId });
    expect(a.value.generationId).toBe(2);
  });

  it('testJoinGroupUnknownMemberExistingGroup / testJoinGroupWithFencedInstanceId', () => {
    const r = new Rig();
    r.stableGroup(1);
    expect(r.join({ memberId: 'unknown' }).value.error).toBe(Errors.UNKNOWN_MEMBER_ID);
    const s = new Rig();
    s.join({ groupInstanceId: 'instance' });
    s.host.advance(1);
    expect(s.join({ memberId: 'someone-else', groupInstanceId: 'instance' }).value.error).toBe(Errors.FENCED_INSTANCE_ID);
  });

  it('testCompleteJoinRemoveNotYetRejoinedDynamicMembers: members that do not rejoin within the rebalance timeout are removed', () => {
    const r = new Rig();
    const { memberIds, leaderId } = r.stableGroup(2, { rebalanceTimeoutMs: 20_000 });
    const follower = memberIds.find((m) => m !== leaderId)!;
    const a = r.join({ memberId: leaderId, rebalanceTimeoutMs: 20_000 });
    // Keep both sessions alive; only the leader rejoins.
    for (let t = 0; t < 4; t++) {
      r.host.advance(4_999);
      r.heartbeat(follower, 1);
      r.heartbeat(leaderId, 1);
    }
    expect(a.done).toBe(false);
    r.host.advance(20_000);
    expect(a.value.generationId).toBe(2);
    expect(a.value.members.map((m) => m.memberId)).toEqual([leaderId]);
    expect(r.coordinator.group(GROUP)!.hasMember(follower)).toBe(false);
    expect(r.host.history).toContainEqual({ type: 'group-member-removed', groupId: GROUP, memberId: follower, reason: 'not-rejoined' });
  });

  it('testNewMemberJoinExpiration: a new member parked in a rebalance is dropped after the new member join timeout', () => {
    const r = new Rig();
    const { leaderId } = r.stableGroup(1, { rebalanceTimeoutMs: 10 * 60_000, sessionTimeoutMs: 10_000 });
    r.join({ memberId: leaderId, rebalanceTimeoutMs: 10 * 60_000 }); // completes at once: a new generation
    r.sync(leaderId, 2, [{ memberId: leaderId, assignment: null }]);
    const n = r.joinDynamic({ clientId: 'new', rebalanceTimeoutMs: 10 * 60_000 });
    expect(r.coordinator.group(GROUP)!.state).toBe('PreparingRebalance');
    // The leader keeps its session (REBALANCE_IN_PROGRESS) but never rejoins.
    for (let t = 0; t < 30; t++) {
      r.host.advance(9_999);
      expect(r.heartbeat(leaderId, 2).error).toBe(Errors.REBALANCE_IN_PROGRESS);
    }
    expect(n.answer.done).toBe(false);
    r.host.advance(CLASSIC_GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS - 30 * 9_999);
    expect(n.answer.value.error).toBe(Errors.UNKNOWN_MEMBER_ID);
    expect(n.answer.value.memberId).toBe(UNKNOWN_MEMBER_ID);
    expect(r.coordinator.group(GROUP)!.hasMember(n.memberId)).toBe(false);
  });

  it('testPendingMemberSessionTimeout: a pending member that never rejoins is removed after its session timeout', () => {
    const r = new Rig();
    const first = r.join({ sessionTimeoutMs: 10_000 });
    const id = first.value.memberId;
    expect(r.coordinator.group(GROUP)!.isPendingMember(id)).toBe(true);
    r.host.advance(10_000);
    expect(r.coordinator.group(GROUP)!.isPendingMember(id)).toBe(false);
  });
});

describe('Static membership', () => {
  it('testStaticMemberRejoinWithUnknownMemberId in Stable: new member id, old one fenced, no rebalance, persisted before the answer', () => {
    const r = new Rig();
    const j = r.join({ groupInstanceId: 'i1', clientId: 'c' });
    r.host.advance(1);
    const oldId = j.value.memberId;
    expect(oldId).toBe('i1-uuid1');
    r.sync(oldId, 1, [{ memberId: oldId, assignment: { partitions: [{ topic: 'foo', partition: 0 }] } }], { groupInstanceId: 'i1' });
    r.host.appendMode = 'manual';
    const again = r.join({ groupInstanceId: 'i1' });
    expect(again.done).toBe(false);
    r.host.completeAppend();
    expect(again.value).toMatchObject({ error: Errors.NONE, generationId: 1, memberId: 'i1-uuid2', leader: 'i1-uuid2', skipAssignment: true });
    const g = r.coordinator.group(GROUP)!;
    expect(g.state).toBe('Stable');
    expect(g.member('i1-uuid2')!.assignment).toEqual({ partitions: [{ topic: 'foo', partition: 0 }] });
    // testStaticMemberFenceDuplicateRejoinedFollower: the stale id is fenced everywhere.
    expect(r.heartbeat(oldId, 1, { groupInstanceId: 'i1' }).error).toBe(Errors.FENCED_INSTANCE_ID);
    expect(r.sync(oldId, 1, [], { groupInstanceId: 'i1' }).value.error).toBe(Errors.FENCED_INSTANCE_ID);
    expect(r.commit({ memberId: oldId, generationId: 1, groupInstanceId: 'i1' }, [{ topic: 'foo', partition: 0, offset: 5 }]).value.topics[0].partitions[0].error).toBe(
      Errors.FENCED_INSTANCE_ID,
    );
    expect(r.leave([{ memberId: oldId, groupInstanceId: 'i1' }]).members[0].error).toBe(Errors.FENCED_INSTANCE_ID);
  });

  it('testStaticMemberRejoinWithKnownMemberIdAndFailedWrite: a failed write reverts to the old member id', () => {
    const r = new Rig();
    const j = r.join({ groupInstanceId: 'i1' });
    r.host.advance(1);
    const oldId = j.value.memberId;
    r.sync(oldId, 1, [{ memberId: oldId, assignment: null }], { groupInstanceId: 'i1' });
    r.host.appendMode = Errors.NOT_LEADER_OR_FOLLOWER;
    const again = r.join({ groupInstanceId: 'i1' });
    expect(again.value.error).toBe(Errors.NOT_COORDINATOR);
    expect(again.value.memberId).toBe(UNKNOWN_MEMBER_ID);
    expect(r.coordinator.group(GROUP)!.staticMemberId('i1')).toBe(oldId);
    expect(r.heartbeat(oldId, 1, { groupInstanceId: 'i1' }).error).toBe(Errors.NONE);
  });

  it('testStaticMemberRejoinDuringCompletingRebalance: forces a rebalance; the old parked sync is fenced', () => {
    const r = new Rig();
    const a = r.join({ groupInstanceId: 'i1', clientId: 'a' });
    r.host.advance(1);
    const oldId = a.value.memberId;
    const s = r.sync(oldId, 1, [], { groupInstanceId: 'i1' }); // leader sync while Completing: parks? no, leader writes
    expect(s.value.error).toBe(Errors.NONE);
    // Back to Completing with a second member, then the static member restarts.
    const b = r.joinDynamic({ clientId: 'b' });
    r.join({ memberId: oldId, groupInstanceId: 'i1' });
    expect(b.answer.value.generationId).toBe(2);
    const parked = r.sync(b.memberId, 2);
    expect(parked.done).toBe(false);
    const again = r.join({ groupInstanceId: 'i1' });
    expect(parked.value.error).toBe(Errors.REBALANCE_IN_PROGRESS);
    expect(r.coordinator.group(GROUP)!.state).toBe('PreparingRebalance');
    r.join({ memberId: b.memberId, clientId: 'b' });
    expect(again.value.generationId).toBe(3);
  });

  it('testStaticMembersLeaveByInstanceId (admin removal with UNKNOWN_MEMBER_ID)', () => {
    const r = new Rig();
    r.join({ groupInstanceId: 'i1' });
    r.host.advance(1);
    const res = r.leave([{ memberId: UNKNOWN_MEMBER_ID, groupInstanceId: 'i1' }, { memberId: UNKNOWN_MEMBER_ID, groupInstanceId: 'nope' }]);
    expect(res.members.map((m) => m.error)).toEqual([Errors.NONE, Errors.UNKNOWN_MEMBER_ID]);
    expect(r.coordinator.group(GROUP)!.numMembers()).toBe(0);
  });

  it('a static member that does not rejoin is kept through the join phase (only dynamic ones are removed)', () => {
    const r = new Rig();
    const s = r.join({ groupInstanceId: 'i1', clientId: 's', rebalanceTimeoutMs: 5_000, sessionTimeoutMs: 60_000 });
    const d = r.joinDynamic({ clientId: 'd', rebalanceTimeoutMs: 5_000, sessionTimeoutMs: 60_000 });
    r.host.advance(1);
    const gen = d.answer.value.generationId;
    r.sync(s.value.memberId, gen, [], { groupInstanceId: 'i1' });
    r.sync(d.memberId, gen);
    r.join({ memberId: d.memberId, clientId: 'd', rebalanceTimeoutMs: 5_000, sessionTimeoutMs: 60_000, protocols: [{ name: 'range', metadata: { topics: ['x'] } }] });
    r.host.advance(5_000);
    const g = r.coordinator.group(GROUP)!;
    expect(g.hasMember(s.value.memberId)).toBe(true);
    expect(g.state).toBe('CompletingRebalance');
  });
});

describe('SyncGroup', () => {
  it('testSyncGroupFromUnknownGroup / EmptyGroup: UNKNOWN_MEMBER_ID', () => {
    const r = new Rig();
    expect(r.sync('m', 1).value.error).toBe(Errors.UNKNOWN_MEMBER_ID);
    r.join();
    expect(r.sync('m', 1).value.error).toBe(Errors.UNKNOWN_MEMBER_ID);
  });

  it('testSyncGroupFromUnknownMember / FromIllegalGeneration / InconsistentProtocol, in that order', () => {
    const r = new Rig();
    const { leaderId, generationId } = r.stableGroup(1);
    expect(r.sync('unknown', generationId).value.error).toBe(Errors.UNKNOWN_MEMBER_ID);
    expect(r.sync(leaderId, generationId, [], { groupInstanceId: 'not-there' }).value.error).toBe(Errors.UNKNOWN_MEMBER_ID);
    expect(r.sync(leaderId, generationId + 1).value.error).toBe(Errors.ILLEGAL_GENERATION);
    expect(r.sync(leaderId, generationId, [], { protocolType: 'connect' }).value.error).toBe(Errors.INCONSISTENT_GROUP_PROTOCOL);
    expect(r.sync(leaderId, generationId, [], { protocolName: 'roundrobin' }).value.error).toBe(Errors.INCONSISTENT_GROUP_PROTOCOL);
    expect(r.sync(leaderId, generationId, [], { protocolType: 'consumer', protocolName: 'range' }).value.error).toBe(Errors.NONE);
  });

  it('testSyncGroupDuringPreparingRebalance: REBALANCE_IN_PROGRESS', () => {
    const r = new Rig();
    const { memberIds, leaderId, generationId } = r.stableGroup(2);
    r.join({ memberId: leaderId });
    const follower = memberIds.find((m) => m !== leaderId)!;
    expect(r.sync(follower, generationId).value.error).toBe(Errors.REBALANCE_IN_PROGRESS);
  });

  it('testSyncGroupFollowerAfterLeader / LeaderAfterFollower: followers wait; everyone gets its assignment after the write', () => {
    const r = new Rig();
    const a = r.joinDynamic({ clientId: 'a' });
    const b = r.joinDynamic({ clientId: 'b' });
    r.host.advance(1);
    const leader = a.answer.value.leader;
    const follower = leader === a.memberId ? b.memberId : a.memberId;
    const fs = r.sync(follower, 1);
    expect(fs.done).toBe(false);
    r.host.appendMode = 'manual';
    const ls = r.sync(leader, 1, [
      { memberId: leader, assignment: { partitions: [{ topic: 'foo', partition: 0 }] } },
      { memberId: follower, assignment: { partitions: [{ topic: 'foo', partition: 1 }] } },
    ]);
    expect(ls.done).toBe(false);
    expect(r.coordinator.group(GROUP)!.state).toBe('CompletingRebalance');
    r.host.completeAppend();
    expect(ls.value).toMatchObject({ error: Errors.NONE, protocolType: 'consumer', protocolName: 'range', assignment: { partitions: [{ topic: 'foo', partition: 0 }] } });
    expect(fs.value.assignment).toEqual({ partitions: [{ topic: 'foo', partition: 1 }] });
    expect(r.coordinator.group(GROUP)!.state).toBe('Stable');
    // A late sync in Stable gets the stored assignment.
    expect(r.sync(follower, 1).value.assignment).toEqual({ partitions: [{ topic: 'foo', partition: 1 }] });
    const rec = r.host.log(0).at(-1)!;
    expect(rec.type === 'GroupMetadata' && rec.value?.members.map((m) => m.assignment)).toEqual([
      { partitions: [{ topic: 'foo', partition: 0 }] },
      { partitions: [{ topic: 'foo', partition: 1 }] },
    ]);
  });

  it('testSyncGroupEmptyAssignment: a member the leader left out gets an empty assignment', () => {
    const r = new Rig();
    const a = r.joinDynamic({ clientId: 'a' });
    const b = r.joinDynamic({ clientId: 'b' });
    r.host.advance(1);
    const leader = a.answer.value.leader;
    const follower = leader === a.memberId ? b.memberId : a.memberId;
    r.sync(leader, 1, [{ memberId: leader, assignment: { partitions: [] } }]);
    expect(r.sync(follower, 1).value).toMatchObject({ error: Errors.NONE, assignment: null });
  });

  it('testSyncGroupLeaderWriteFailure: the append error reaches every parked member (NOT_LEADER_OR_FOLLOWER -> NOT_COORDINATOR) and the group rebalances', () => {
    const r = new Rig();
    const a = r.joinDynamic({ clientId: 'a' });
    const b = r.joinDynamic({ clientId: 'b' });
    r.host.advance(1);
    const leader = a.answer.value.leader;
    const follower = leader === a.memberId ? b.memberId : a.memberId;
    const fs = r.sync(follower, 1);
    r.host.appendMode = Errors.NOT_LEADER_OR_FOLLOWER;
    const ls = r.sync(leader, 1, []);
    expect(ls.value.error).toBe(Errors.NOT_COORDINATOR);
    expect(fs.value.error).toBe(Errors.NOT_COORDINATOR);
    expect(r.coordinator.group(GROUP)!.state).toBe('PreparingRebalance');
  });

  it('testSessionTimeoutExpiredWhileAwaitingSync / expirePendingSync: members that never sync are removed after the rebalance timeout', () => {
    const r = new Rig();
    const a = r.joinDynamic({ clientId: 'a', rebalanceTimeoutMs: 10_000, sessionTimeoutMs: 30_000 });
    const b = r.joinDynamic({ clientId: 'b', rebalanceTimeoutMs: 10_000, sessionTimeoutMs: 30_000 });
    r.host.advance(1);
    const leader = a.answer.value.leader;
    const follower = leader === a.memberId ? b.memberId : a.memberId;
    r.sync(follower, 1);
    r.host.advance(10_000);
    const g = r.coordinator.group(GROUP)!;
    expect(g.hasMember(leader)).toBe(false);
    expect(g.state).toBe('PreparingRebalance');
  });
});

describe('Heartbeat', () => {
  it('testHeartbeatUnknownGroup / UnknownConsumerExistingGroup / EmptyGroup: UNKNOWN_MEMBER_ID', () => {
    const r = new Rig();
    expect(r.heartbeat('m', 1).error).toBe(Errors.UNKNOWN_MEMBER_ID);
    r.join();
    expect(r.heartbeat('m', 0).error).toBe(Errors.UNKNOWN_MEMBER_ID);
    r.stableGroup(1);
    expect(r.heartbeat('m', 1).error).toBe(Errors.UNKNOWN_MEMBER_ID);
  });

  it('testHeartbeatIllegalGeneration / testValidHeartbeat / testHeartbeatDuringRebalanceCausesRebalanceInProgress', () => {
    const r = new Rig();
    const { memberIds, leaderId, generationId } = r.stableGroup(2);
    expect(r.heartbeat(leaderId, generationId + 1).error).toBe(Errors.ILLEGAL_GENERATION);
    expect(r.heartbeat(leaderId, generationId).error).toBe(Errors.NONE);
    r.join({ memberId: leaderId });
    const follower = memberIds.find((m) => m !== leaderId)!;
    expect(r.heartbeat(follower, generationId).error).toBe(Errors.REBALANCE_IN_PROGRESS);
  });

  it('testHeartbeatDuringCompletingRebalance: NONE (a normal heartbeat)', () => {
    const r = new Rig();
    const { memberId, answer } = r.joinDynamic();
    r.host.advance(1);
    expect(r.heartbeat(memberId, answer.value.generationId).error).toBe(Errors.NONE);
  });

  it('testHeartbeatWhileLoading: the service answers NONE blindly while the partition loads', () => {
    const r = new Rig({}, { loadAll: false });
    r.coordinator.beginLoad(0);
    expect(r.heartbeat('anyone', 5).error).toBe(Errors.NONE);
    r.coordinator.unloadPartition(0);
    expect(r.heartbeat('anyone', 5).error).toBe(Errors.NOT_COORDINATOR);
  });

  it('testClassicGroupMemberSessionTimeout / testClassicGroupMemberHeartbeatMaintainsSession', () => {
    const r = new Rig();
    const { leaderId, generationId } = r.stableGroup(1, { sessionTimeoutMs: 10_000 });
    r.host.advance(9_000);
    expect(r.heartbeat(leaderId, generationId).error).toBe(Errors.NONE);
    r.host.advance(9_000);
    expect(r.heartbeat(leaderId, generationId).error).toBe(Errors.NONE);
    r.host.advance(10_000);
    expect(r.heartbeat(leaderId, generationId).error).toBe(Errors.UNKNOWN_MEMBER_ID);
    const g = r.coordinator.group(GROUP)!;
    expect(g.numMembers()).toBe(0);
    expect(g.state).toBe('Empty');
    expect(g.generationId).toBe(2);
  });

  it('testCommitOffsetInCompletingRebalance keeps no session, but a commit in Stable does (testCommitMaintainsSession)', () => {
    const r = new Rig();
    const { leaderId, generationId } = r.stableGroup(1, { sessionTimeoutMs: 10_000 });
    r.host.advance(9_000);
    r.commit({ memberId: leaderId, generationId }, [{ topic: 'foo', partition: 0, offset: 1 }]);
    r.host.advance(9_000);
    expect(r.heartbeat(leaderId, generationId).error).toBe(Errors.NONE);
  });
});

describe('LeaveGroup', () => {
  it('testLeaveGroupUnknownGroup: UNKNOWN_MEMBER_ID per member', () => {
    const res = new Rig().leave([{ memberId: 'm' }]);
    expect(res.error).toBe(Errors.NONE);
    expect(res.members).toEqual([{ memberId: 'm', groupInstanceId: null, error: Errors.UNKNOWN_MEMBER_ID }]);
  });

  it('testLeaveGroupUnknownConsumerExistingGroup / testValidLeaveGroup: the last member leaving empties the group', () => {
    const r = new Rig();
    const { leaderId } = r.stableGroup(1);
    expect(r.leave([{ memberId: 'other' }]).members[0].error).toBe(Errors.UNKNOWN_MEMBER_ID);
    expect(r.leave([{ memberId: leaderId }]).members[0].error).toBe(Errors.NONE);
    const g = r.coordinator.group(GROUP)!;
    expect(g.state).toBe('Empty');
    expect(g.generationId).toBe(2);
    const last = r.host.log(0).at(-1)!;
    expect(last).toMatchObject({ type: 'GroupMetadata', value: { generation: 2, members: [], protocol: null } });
  });

  it('testPendingMemberLeaveGroup: a pending member may leave', () => {
    const r = new Rig();
    const id = r.join().value.memberId;
    expect(r.leave([{ memberId: id }]).members[0].error).toBe(Errors.NONE);
    expect(r.coordinator.group(GROUP)!.isPendingMember(id)).toBe(false);
  });

  it('testLeaveGroupDuringRebalanceCompletesJoin: a leave that completes the join phase', () => {
    const r = new Rig();
    const { memberIds, leaderId } = r.stableGroup(2);
    const follower = memberIds.find((m) => m !== leaderId)!;
    const j = r.join({ memberId: leaderId });
    expect(j.done).toBe(false);
    r.leave([{ memberId: follower }]);
    expect(j.value).toMatchObject({ error: Errors.NONE, generationId: 2 });
  });

  it('a member parked in JoinGroup that leaves gets UNKNOWN_MEMBER_ID on its join', () => {
    const r = new Rig();
    const { memberIds, leaderId } = r.stableGroup(2);
    const follower = memberIds.find((m) => m !== leaderId)!;
    const j = r.join({ memberId: follower, protocols: [{ name: 'range', metadata: { topics: ['bar'] } }] });
    expect(j.done).toBe(false);
    r.leave([{ memberId: follower }]);
    expect(j.value.error).toBe(Errors.UNKNOWN_MEMBER_ID);
  });
});

describe('OffsetCommit and OffsetFetch', () => {
  it('testSimpleGroupOffsetCommit: generation -1 to an unknown group creates a simple group; offsets are readable after the write', () => {
    const r = new Rig();
    r.host.appendMode = 'manual';
    const c = r.commit({}, [{ topic: 'foo', partition: 0, offset: 100, leaderEpoch: 3 }]);
    expect(c.done).toBe(false);
    expect(r.fetch([{ name: 'foo', partitionIndexes: [0] }]).topics[0].partitions[0].committedOffset).toBe(-1);
    r.host.completeAppend();
    expect(c.value.topics).toEqual([{ name: 'foo', partitions: [{ partitionIndex: 0, error: Errors.NONE }] }]);
    expect(r.fetch([{ name: 'foo', partitionIndexes: [0, 1] }]).topics[0].partitions).toEqual([
      { partitionIndex: 0, committedOffset: 100, committedLeaderEpoch: 3, metadata: '', error: Errors.NONE },
      { partitionIndex: 1, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', error: Errors.NONE },
    ]);
    expect(r.coordinator.group(GROUP)!.state).toBe('Empty');
    expect(r.host.log(0)).toEqual([
      { type: 'OffsetCommit', key: { group: GROUP, topic: 'foo', partition: 0 }, value: { offset: 100, leaderEpoch: 3, metadata: '', commitTimestamp: 0, expireTimestamp: -1 } },
    ]);
  });

  it('testGenericGroupOffsetCommitWithUnknownGroupId: GROUP_ID_NOT_FOUND with a generation', () => {
    const r = new Rig();
    expect(r.commit({ memberId: 'm', generationId: 1 }, [{ topic: 'foo', partition: 0, offset: 1 }]).value.topics[0].partitions[0].error).toBe(Errors.GROUP_ID_NOT_FOUND);
  });

  it('testGenericGroupOffsetCommitWithUnknownMemberId / IllegalGeneration / WhileInCompletingRebalanceState / Stable', () => {
    const r = new Rig();
    const { memberId, answer } = r.joinDynamic();
    r.host.advance(1);
    const err = (o: Parameters<Rig['commit']>[0]) => r.commit(o, [{ topic: 'foo', partition: 0, offset: 1 }]).value.topics[0].partitions[0].error;
    expect(err({ memberId: 'unknown', generationId: 1 })).toBe(Errors.UNKNOWN_MEMBER_ID);
    expect(err({ memberId, generationId: 10 })).toBe(Errors.ILLEGAL_GENERATION);
    expect(err({ memberId, generationId: 1 })).toBe(Errors.REBALANCE_IN_PROGRESS);
    expect(err({})).toBe(Errors.UNKNOWN_MEMBER_ID); // no member id and a non-empty group
    r.sync(memberId, answer.value.generationId, []);
    expect(err({ memberId, generationId: 1 })).toBe(Errors.NONE);
    expect(r.coordinator.committedOffset(GROUP, 'foo', 0)?.committedOffset).toBe(1);
  });

  it('testGenericGroupOffsetCommitDuringPreparingRebalance: commits from the previous generation are accepted', () => {
    const r = new Rig();
    const { leaderId, generationId } = r.stableGroup(1);
    r.join({ memberId: leaderId, protocols: [{ name: 'range', metadata: { topics: ['foo', 'x'] } }] });
    // The join completed at once (all members joined): now CompletingRebalance with generation 2.
    expect(r.commit({ memberId: leaderId, generationId }, [{ topic: 'foo', partition: 0, offset: 1 }]).value.topics[0].partitions[0].error).toBe(Errors.ILLEGAL_GENERATION);
    const r2 = new Rig();
    const s = r2.stableGroup(2);
    r2.join({ memberId: s.leaderId });
    const follower = s.memberIds.find((m) => m !== s.leaderId)!;
    expect(r2.coordinator.group(GROUP)!.state).toBe('PreparingRebalance');
    expect(r2.commit({ memberId: follower, generationId: s.generationId }, [{ topic: 'foo', partition: 0, offset: 7 }]).value.topics[0].partitions[0].error).toBe(Errors.NONE);
  });

  it('testOffsetCommitWithTooLargeMetadata: OFFSET_METADATA_TOO_LARGE per partition', () => {
    const r = new Rig({ 'offset.metadata.max.bytes': 5 });
    const c = r.commit({ metadata: 'toolong' }, [{ topic: 'foo', partition: 0, offset: 1 }]);
    expect(c.value.topics[0].partitions[0].error).toBe(Errors.OFFSET_METADATA_TOO_LARGE);
    expect(r.host.log(0)).toEqual([]);
  });

  it('a failed offset commit write maps the append error (REQUEST_TIMED_OUT -> COORDINATOR_NOT_AVAILABLE) and drops the new simple group', () => {
    const r = new Rig();
    r.host.appendMode = Errors.REQUEST_TIMED_OUT;
    expect(r.commit({}, [{ topic: 'foo', partition: 0, offset: 1 }]).value.topics[0].partitions[0].error).toBe(Errors.COORDINATOR_NOT_AVAILABLE);
    expect(r.coordinator.group(GROUP)).toBeUndefined();
  });

  it('testFetchAllOffsets and testFetchOffsetsUnknownGroup', () => {
    const r = new Rig();
    expect(r.fetch(null).topics).toEqual([]);
    expect(r.fetch([{ name: 'foo', partitionIndexes: [0] }]).topics[0].partitions[0]).toMatchObject({ committedOffset: -1, error: Errors.NONE });
    r.commit({}, [
      { topic: 'foo', partition: 0, offset: 1 },
      { topic: 'bar', partition: 2, offset: 5 },
    ]);
    expect(r.fetch(null).topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset])])).toEqual([
      ['foo', [[0, 1]]],
      ['bar', [[2, 5]]],
    ]);
  });

  it('coordinator errors come first: NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, INVALID_GROUP_ID, COORDINATOR_NOT_AVAILABLE after shutdown', () => {
    const r = new Rig({}, { loadAll: false });
    expect(r.commit({}, [{ topic: 'foo', partition: 0, offset: 1 }]).value.topics[0].partitions[0].error).toBe(Errors.NOT_COORDINATOR);
    expect(r.fetch(null).error).toBe(Errors.NOT_COORDINATOR);
    r.coordinator.beginLoad(0);
    expect(r.fetch(null).error).toBe(Errors.COORDINATOR_LOAD_IN_PROGRESS);
    expect(r.sync('m', 1).value.error).toBe(Errors.COORDINATOR_LOAD_IN_PROGRESS);
    expect(r.leave([{ memberId: 'm' }]).error).toBe(Errors.COORDINATOR_LOAD_IN_PROGRESS);
    expect(r.fetch(null, '').error).toBe(Errors.INVALID_GROUP_ID);
    r.coordinator.shutdown();
    expect(r.fetch(null).error).toBe(Errors.COORDINATOR_NOT_AVAILABLE);
    expect(r.join().value.error).toBe(Errors.COORDINATOR_NOT_AVAILABLE);
  });
});

describe('offsets.retention.minutes', () => {
  it('testCleanupGroupMetadata: offsets of an Empty group expire after the retention, then the group is deleted', () => {
    const r = new Rig({ 'offsets.retention.minutes': 1, 'offsets.retention.check.interval.ms': 10_000 });
    const { leaderId, generationId } = r.stableGroup(1);
    r.commit({ memberId: leaderId, generationId }, [{ topic: 'foo', partition: 0, offset: 3 }]);
    r.leave([{ memberId: leaderId }]);
    r.host.advance(50_000);
    expect(r.coordinator.committedOffset(GROUP, 'foo', 0)?.committedOffset).toBe(3);
    r.host.advance(20_000);
    expect(r.coordinator.committedOffset(GROUP, 'foo', 0)).toBeUndefined();
    expect(r.coordinator.group(GROUP)).toBeUndefined();
    expect(r.host.log(0).slice(-2)).toEqual([
      { type: 'OffsetCommit', key: { group: GROUP, topic: 'foo', partition: 0 }, value: null },
      { type: 'GroupMetadata', key: { group: GROUP }, value: null },
    ]);
  });

  it('offsets of a topic a Stable consumer group subscribes to never expire', () => {
    const r = new Rig({ 'offsets.retention.minutes': 1, 'offsets.retention.check.interval.ms': 10_000 });
    const { leaderId, generationId } = r.stableGroup(1, { sessionTimeoutMs: 1_000_000 });
    r.commit({ memberId: leaderId, generationId }, [
      { topic: 'foo', partition: 0, offset: 3 },
      { topic: 'other', partition: 0, offset: 4 },
    ]);
    r.host.advance(200_000);
    expect(r.coordinator.committedOffset(GROUP, 'foo', 0)?.committedOffset).toBe(3);
    expect(r.coordinator.committedOffset(GROUP, 'other', 0)).toBeUndefined();
  });
});

describe('appendGroupMetadataErrorToResponseError', () => {
  it.each([
    [Errors.UNKNOWN_TOPIC_OR_PARTITION, Errors.COORDINATOR_NOT_AVAILABLE],
    [Errors.NOT_ENOUGH_REPLICAS, Errors.COORDINATOR_NOT_AVAILABLE],
    [Errors.REQUEST_TIMED_OUT, Errors.COORDINATOR_NOT_AVAILABLE],
    [Errors.NOT_LEADER_OR_FOLLOWER, Errors.NOT_COORDINATOR],
    [Errors.KAFKA_STORAGE_ERROR, Errors.NOT_COORDINATOR],
    [Errors.MESSAGE_TOO_LARGE, Errors.UNKNOWN_SERVER_ERROR],
    [Errors.RECORD_LIST_TOO_LARGE, Errors.UNKNOWN_SERVER_ERROR],
    [Errors.INVALID_REQUEST, Errors.INVALID_REQUEST],
  ])('%i -> %i', (from, to) => {
    expect(appendErrorToResponseError(from)).toBe(to);
  });
});
