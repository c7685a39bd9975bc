import { describe, expect, it } from 'vitest';
import { Errors } from '../../../src/kafka/protocol/errors.js';
import { GroupCoordinator } from '../../../src/kafka/group/group-coordinator.js';
import { FakeHost, GROUP, Rig } from './group-rig.js';

/**
 * Loading a __consumer_offsets partition replays its records into the same groups and offsets
 * (GroupMetadataManager.replay / OffsetMetadataManager.replay, onLoaded); unloading makes every
 * group Dead and answers what was parked (GroupMetadataManager.onUnloaded, CoordinatorRuntime).
 */

function snapshot(c: GroupCoordinator, groupId: string) {
  const g = c.group(groupId);
  if (g === undefined) return undefined;
  return {
    state: g.state,
    generationId: g.generationId,
    protocolType: g.protocolType,
    protocolName: g.protocolName,
    leaderId: g.leaderId,
    members: [...g.allMembers()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      sessionTimeoutMs: m.sessionTimeoutMs,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      assignment: m.assignment,
    })),
    offsets: c.committedOffsets(groupId),
  };
}

function reload(from: Rig, partition = 0): { host: FakeHost; coordinator: GroupCoordinator } {
  const host = new FakeHost();
  host.now = from.host.now;
  const coordinator = new GroupCoordinator(host, from.coordinator.config);
  host.coordinator = coordinator;
  coordinator.loadPartition(partition, from.host.log(partition));
  return { host, coordinator };
}

describe('loadPartition replays the log', () => {
  it('testReplayGroupMetadataRecords: a Stable group, a static member and committed offsets come back the same', () => {
    const r = new Rig();
    const { leaderId, generationId } = r.stableGroup(3);
    r.commit({ memberId: leaderId, generationId }, [
      { topic: 'foo', partition: 0, offset: 10, leaderEpoch: 2 },
      { topic: 'foo', partition: 1, offset: 20 },
    ]);
    r.commit({ groupId: 'simple' }, [{ topic: 'bar', partition: 0, offset: 5 }]);
    const s = r.join({ groupId: 'static', groupInstanceId: 'i1' });
    r.host.advance(1);
    r.sync(s.value.memberId, 1, [{ memberId: s.value.memberId, assignment: { partitions: [{ topic: 'foo', partition: 9 }] } }], { groupId: 'static', groupInstanceId: 'i1' });

    const { coordinator } = reload(r);
    for (const g of [GROUP, 'simple', 'static']) expect(snapshot(coordinator, g)).toEqual(snapshot(r.coordinator, g));
    expect(coordinator.group(GROUP)!.state).toBe('Stable');
    expect(coordinator.group('simple')!.state).toBe('Empty');
    expect(coordinator.group('static')!.staticMemberId('i1')).toBe(s.value.memberId);
  });

  it('an Empty group, deleted offsets and a deleted group replay to their last state', () => {
    const r = new Rig({ 'offsets.retention.minutes': 1, 'offsets.retention.check.interval.ms': 10_000 });
    const { leaderId, generationId } = r.stableGroup(1);
    r.commit({ memberId: leaderId, generationId }, [{ topic: 'foo', partition: 0, offset: 1 }]);
    r.leave([{ memberId: leaderId }]);
    const { coordinator: before } = reload(r);
    expect(snapshot(before, GROUP)).toMatchObject({ state: 'Empty', generationId: 2, members: [], offsets: [{ topic: 'foo', partition: 0 }] });
    r.host.advance(200_000);
    expect(r.coordinator.group(GROUP)).toBeUndefined();
    const { coordinator: after } = reload(r);
    expect(after.group(GROUP)).toBeUndefined();
    expect(after.committedOffsets(GROUP)).toEqual([]);
  });

  it('onLoaded: loaded members get session timers, and a member that never heartbeats is removed', () => {
    const r = new Rig();
    const { memberIds, generationId } = r.stableGroup(2, { sessionTimeoutMs: 10_000 });
    const { host, coordinator } = reload(r);
    host.advance(9_000);
    const hb = (memberId: string) => {
      let error = -2;
      coordinator.handle({ type: 'HeartbeatRequest', correlationId: 1, groupId: GROUP, generationId, memberId, groupInstanceId: null, sizeBytes: 1 }, (x) => (error = (x as { error: number }).error));
      return error;
    };
    expect(hb(memberIds[0])).toBe(Errors.NONE);
    host.advance(2_000);
    expect(coordinator.group(GROUP)!.hasMember(memberIds[1])).toBe(false);
    expect(coordinator.group(GROUP)!.state).toBe('PreparingRebalance');
  });

  it('a rebalance in progress is not persisted: the new coordinator resumes from the last stored generation', () => {
    const r = new Rig();
    const { leaderId, generationId } = r.stableGroup(2);
    r.join({ memberId: leaderId });
    expect(r.coordinator.group(GROUP)!.state).toBe('PreparingRebalance');
    const { coordinator } = reload(r);
    expect(coordinator.group(GROUP)).toMatchObject({ state: 'Stable', generationId });
  });
});

describe('unloadPartition', () => {
  it('testOnUnloaded: parked joins and syncs get NOT_COORDINATOR; later requests get NOT_COORDINATOR', () => {
    const r = new Rig();
    const { memberIds, leaderId } = r.stableGroup(2);
    const follower = memberIds.find((m) => m !== leaderId)!;
    const j = r.join({ memberId: leaderId });
    expect(j.done).toBe(false);
    r.coordinator.unloadPartition(0);
    expect(j.value.error).toBe(Errors.NOT_COORDINATOR);
    expect(r.coordinator.group(GROUP)).toBeUndefined();
    expect(r.heartbeat(follower, 1).error).toBe(Errors.NOT_COORDINATOR);
    expect(r.host.pendingTimers()).toEqual([]);

    const r2 = new Rig();
    const a = r2.joinDynamic({ clientId: 'a' });
    const b = r2.joinDynamic({ clientId: 'b' });
    r2.host.advance(1);
    const leader = a.answer.value.leader;
    const other = leader === a.memberId ? b.memberId : a.memberId;
    const parkedSync = r2.sync(other, 1);
    r2.coordinator.unloadPartition(0);
    expect(parkedSync.value.error).toBe(Errors.NOT_COORDINATOR);
    expect(r2.host.history.filter((e) => e.type === 'group-state-transition').at(-1)).toMatchObject({ from: 'CompletingRebalance', to: 'Dead' });
  });

  it('a write in flight fails with NOT_COORDINATOR on unload; its late completion is ignored', () => {
    const r = new Rig();
    r.host.appendMode = 'manual';
    const c = r.commit({}, [{ topic: 'foo', partition: 0, offset: 1 }]);
    r.coordinator.unloadPartition(0);
    expect(c.value.topics[0].partitions[0].error).toBe(Errors.NOT_COORDINATOR);
    r.host.completeAppend();
    expect(c.count).toBe(1);
    r.coordinator.loadPartition(0, r.host.log(0));
    expect(r.coordinator.committedOffset(GROUP, 'foo', 0)?.committedOffset).toBe(1);
  });
});
