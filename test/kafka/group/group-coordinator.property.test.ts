import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Errors, type ErrorCode } from '../../../src/kafka/protocol/errors.js';
import { isValidTransition, type ClassicGroupState } from '../../../src/kafka/group/classic-group.js';
import {
  CONSUMER_PROTOCOL_TYPE,
  UNKNOWN_MEMBER_ID,
  type GroupResponse,
  type HeartbeatResponse,
  type JoinGroupResponse,
  type JoinGroupResponseMember,
  type LeaveGroupResponse,
  type SyncGroupResponse,
} from '../../../src/kafka/protocol/group-messages.js';
import { GroupCoordinator } from '../../../src/kafka/group/group-coordinator.js';
import { FakeHost, GROUP } from './group-rig.js';

/**
 * Random sequences of joins, syncs, heartbeats, leaves, commits, time passing, slow and failed
 * appends, and coordinator failovers (unload, then load from the log), against a fake host.
 * Clients follow the classic protocol loosely: a leader assigns the topic's partitions
 * round-robin over the members its JoinGroup response lists. Checked after every step:
 * - no-double-assignment: members of the group's current generation never hold one partition twice;
 * - every transition the group took is one ClassicGroupState allows (transitionTo also throws);
 * - every request is answered at most once.
 */

const PARTITIONS = 6;
const LONG = process.env.KAFKAESQUE_LONG === '1';

interface Client {
  readonly clientId: string;
  readonly instanceId: string | null;
  memberId: string;
  generationId: number;
  leader: boolean;
  members: readonly JoinGroupResponseMember[];
  needsSync: boolean;
  needsRejoin: boolean;
  joinInFlight: boolean;
  syncInFlight: boolean;
  holds: { generationId: number; memberId: string; partitions: number[] } | null;
}

type Op =
  | { kind: 'join'; client: number; force: boolean }
  | { kind: 'sync' | 'heartbeat' | 'leave' | 'commit'; client: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'appendMode'; mode: 'auto' | 'manual' | 'fail' }
  | { kind: 'completeAppend'; ok: boolean }
  | { kind: 'failover' };

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('join' as const), client: fc.nat(4), force: fc.integer({ min: 0, max: 9 }).map((n) => n === 0) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('sync' as const), client: fc.nat(4) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('heartbeat' as const), client: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), client: fc.nat(4) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('commit' as const), client: fc.nat(4) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 2_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 2_000, max: 25_000 }) }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('appendMode' as const), mode: fc.constantFrom('auto' as const, 'auto' as const, 'manual' as const, 'fail' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('completeAppend' as const), ok: fc.integer({ min: 0, max: 4 }).map((n) => n !== 0) }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map(() => ({ kind: 'failover' as const })) },
);

export function run(ops: readonly Op[], staticMask: number, initialDelayMs: number): FakeHost {
  const host = new FakeHost();
  const coordinator = new GroupCoordinator(host, { 'group.initial.rebalance.delay.ms': initialDelayMs, 'offsets.topic.num.partitions': 1 });
  host.coordinator = coordinator;
  coordinator.loadPartition(0, []);
  let corr = 0;
  const answers = new Map<number, number>();
  const send = <R extends GroupResponse>(build: (correlationId: number) => Parameters<GroupCoordinator['handle']>[0], onResponse: (r: R) => void): void => {
    const id = ++corr;
    coordinator.handle(build(id), (r) => {
      const n = (answers.get(id) ?? 0) + 1;
      answers.set(id, n);
      expect(n, `request ${id} answered twice`).toBe(1);
      onResponse(r as R);
    });
  };

  const clients: Client[] = [0, 1, 2, 3, 4].map((i) => ({
    clientId: `c${i}`,
    instanceId: (staticMask >> i) & 1 ? `instance-${i}` : null,
    memberId: UNKNOWN_MEMBER_ID,
    generationId: -1,
    leader: false,
    members: [],
    needsSync: false,
    needsRejoin: false,
    joinInFlight: false,
    syncInFlight: false,
    holds: null,
  }));

  const reset = (c: Client, keepMemberId = false): void => {
    if (!keepMemberId) c.memberId = UNKNOWN_MEMBER_ID;
    c.generationId = -1;
    c.needsSync = false;
    c.needsRejoin = false;
    c.holds = null;
  };
  const onError = (c: Client, error: ErrorCode): void => {
    if (error === Errors.UNKNOWN_MEMBER_ID || error === Errors.FENCED_INSTANCE_ID || error === Errors.ILLEGAL_GENERATION) reset(c);
    else if (error === Errors.REBALANCE_IN_PROGRESS) {
      // Eager protocol: everything is revoked before rejoining.
      c.holds = null;
      c.needsSync = false;
      c.needsRejoin = true;
    } else if (error !== Errors.NONE) c.holds = null;
  };

  const step = (op: Op): void => {
    switch (op.kind) {
      case 'join': {
        const c = clients[op.client];
        if (c.joinInFlight) return;
        // A member in a good generation rejoins only now and then (the leader's rejoin forces a rebalance).
        if (c.generationId >= 0 && !c.needsRejoin && !op.force) return;
        c.joinInFlight = true;
        c.needsRejoin = false;
        c.holds = null; // eager: revoke before rejoining
        send<JoinGroupResponse>(
          (correlationId) => ({
            type: 'JoinGroupRequest',
            correlationId,
            clientId: c.clientId,
            clientHost: 'h',
            groupId: GROUP,
            sessionTimeoutMs: 10_000,
            rebalanceTimeoutMs: 15_000,
            memberId: c.memberId,
            groupInstanceId: c.instanceId,
            protocolType: CONSUMER_PROTOCOL_TYPE,
            protocols: [{ name: 'roundrobin', metadata: { topics: ['foo'] } }],
            sizeBytes: 1,
          }),
          (r) => {
            c.joinInFlight = false;
            if (r.error === Errors.MEMBER_ID_REQUIRED) {
              c.memberId = r.memberId;
            } else if (r.error === Errors.NONE) {
              c.memberId = r.memberId;
              c.generationId = r.generationId;
              c.leader = r.leader === r.memberId && !r.skipAssignment;
              c.members = r.members;
              c.needsSync = true;
            } else onError(c, r.error);
          },
        );
        return;
      }
      case 'sync': {
        const c = clients[op.client];
        if (!c.needsSync || c.syncInFlight) return;
        c.syncInFlight = true;
        const generationId = c.generationId;
        const memberId = c.memberId;
        const assignments = c.leader
          ? c.members.map((m, k) => ({
              memberId: m.memberId,
              assignment: { partitions: [...Array(PARTITIONS).keys()].filter((p) => p % c.members.length === k).map((partition) => ({ topic: 'foo', partition })) },
            }))
          : [];
        send<SyncGroupResponse>(
          (correlationId) => ({
            type: 'SyncGroupRequest',
            correlationId,
            groupId: GROUP,
            generationId,
            memberId,
            groupInstanceId: c.instanceId,
            protocolType: CONSUMER_PROTOCOL_TYPE,
            protocolName: 'roundrobin',
            assignments,
            sizeBytes: 1,
          }),
          (r) => {
            c.syncInFlight = false;
            if (r.error === Errors.NONE) {
              c.needsSync = false;
              if (c.memberId === memberId && c.generationId === generationId) {
                c.holds = { generationId, memberId, partitions: (r.assignment?.partitions ?? []).map((tp) => tp.partition) };
              }
            } else onError(c, r.error);
          },
        );
        return;
      }
      case 'heartbeat': {
        const c = clients[op.client];
        if (c.memberId === UNKNOWN_MEMBER_ID || c.generationId < 0) return;
        send<HeartbeatResponse>(
          (correlationId) => ({ type: 'HeartbeatRequest', correlationId, groupId: GROUP, generationId: c.generationId, memberId: c.memberId, groupInstanceId: c.instanceId, sizeBytes: 1 }),
          (r) => onError(c, r.error),
        );
        return;
      }
      case 'leave': {
        const c = clients[op.client];
        if (c.memberId === UNKNOWN_MEMBER_ID) return;
        send<LeaveGroupResponse>(
          (correlationId) => ({ type: 'LeaveGroupRequest', correlationId, groupId: GROUP, members: [{ memberId: c.memberId, groupInstanceId: c.instanceId }], sizeBytes: 1 }),
          () => {},
        );
        reset(c);
        return;
      }
      case 'commit': {
        const c = clients[op.client];
        const holds = c.holds;
        if (holds === null) return;
        send(
          (correlationId) => ({
            type: 'OffsetCommitRequest',
            correlationId,
            groupId: GROUP,
            generationIdOrMemberEpoch: holds.generationId,
            memberId: holds.memberId,
            groupInstanceId: c.instanceId,
            retentionTimeMs: -1,
            topics: [{ name: 'foo', partitions: holds.partitions.map((p) => ({ partitionIndex: p, committedOffset: corr, committedLeaderEpoch: -1, committedMetadata: '' })) }],
            sizeBytes: 1,
          }),
          () => {},
        );
        return;
      }
      case 'advance':
        host.advance(op.ms);
        return;
      case 'appendMode':
        host.appendMode = op.mode === 'fail' ? Errors.NOT_ENOUGH_REPLICAS : op.mode;
        return;
      case 'completeAppend':
        if (host.pendingAppends.length > 0) host.completeAppend(op.ok ? Errors.NONE : Errors.REQUEST_TIMED_OUT);
        return;
      case 'failover':
        // The old leader's unfinished writes never commit; the new coordinator reads the log.
        while (host.pendingAppends.length > 0) host.completeAppend(Errors.NOT_LEADER_OR_FOLLOWER);
        coordinator.unloadPartition(0);
        coordinator.loadPartition(0, host.log(0));
        return;
    }
  };

  const check = (): void => {
    const g = coordinator.group(GROUP);
    if (g === undefined) return;
    const owner = new Map<number, string>();
    for (const c of clients) {
      const h = c.holds;
      if (h === null || h.generationId !== g.generationId || !g.hasMember(h.memberId)) continue;
      for (const p of h.partitions) {
        const other = owner.get(p);
        expect(other, `partition foo-${p} held by ${other} and ${h.memberId} in generation ${g.generationId}`).toBeUndefined();
        owner.set(p, h.memberId);
      }
    }
  };

  for (const op of ops) {
    step(op);
    check();
  }
  // Drain: let every timer fire.
  host.appendMode = 'auto';
  while (host.pendingAppends.length > 0) host.completeAppend();
  host.advance(400_000);
  check();
  for (const e of host.history) {
    if (e.type === 'group-state-transition') expect(isValidTransition(e.from as ClassicGroupState, e.to as ClassicGroupState), `${e.from} -> ${e.to}`).toBe(true);
  }
  return host;
}

describe('classic group coordinator under random operations', () => {
  it('never gives one partition to two members of the same generation, and takes only allowed transitions', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: LONG ? 300 : 120, size: 'max' }), fc.nat(31), fc.constantFrom(0, 100, 3_000), (ops, staticMask, delay) => {
        run(ops, staticMask, delay);
      }),
      { numRuns: LONG ? 3_000 : 300, seed: 42 },
    );
  });

  it('is deterministic: the same operations give the same history', () => {
    const ops = fc.sample(fc.array(opArb, { minLength: 50, maxLength: 50 }), { numRuns: 1, seed: 7 })[0];
    const histories = [0, 1].map(() => {
      const host = new FakeHost();
      const c = new GroupCoordinator(host, { 'offsets.topic.num.partitions': 1 });
      host.coordinator = c;
      c.loadPartition(0, []);
      let corr = 0;
      for (const op of ops) {
        if (op.kind === 'advance') host.advance(op.ms);
        else if (op.kind === 'join') {
          c.handle(
            {
              type: 'JoinGroupRequest',
              correlationId: ++corr,
              clientId: `c${op.client}`,
              clientHost: 'h',
              groupId: GROUP,
              sessionTimeoutMs: 10_000,
              rebalanceTimeoutMs: 15_000,
              memberId: '',
              groupInstanceId: `i${op.client}`,
              protocolType: 'consumer',
              protocols: [{ name: 'roundrobin', metadata: { topics: ['foo'] } }],
              sizeBytes: 1,
            },
            () => {},
          );
        }
      }
      host.advance(100_000);
      return JSON.stringify(host.history);
    });
    expect(histories[0]).toBe(histories[1]);
  });
});
