import { Errors, type ErrorCode } from '../../../src/kafka/protocol/errors.js';
import {
  CONSUMER_PROTOCOL_TYPE,
  UNKNOWN_MEMBER_ID,
  type GroupResponse,
  type HeartbeatResponse,
  type JoinGroupRequestProtocol,
  type JoinGroupResponse,
  type LeaveGroupResponse,
  type MemberAssignment,
  type OffsetCommitResponse,
  type OffsetFetchResponse,
  type SyncGroupResponse,
} from '../../../src/kafka/protocol/group-messages.js';
import { GroupCoordinator, type GroupCoordinatorConfig, type GroupCoordinatorHost, type GroupHistoryEntry } from '../../../src/kafka/group/group-coordinator.js';
import type { GroupRecord } from '../../../src/kafka/group/group-records.js';

/**
 * A fake host for the group coordinator: a virtual clock in ms, timers fired in due order (ties
 * by creation), a log per __consumer_offsets partition, and appends that complete at once, wait
 * to be completed by the test, or fail.
 */
export class FakeHost implements GroupCoordinatorHost {
  now = 0;
  private timerSeq = 0;
  private readonly timers = new Map<number, { dueMs: number; name: string; data: unknown }>();
  readonly logs = new Map<number, GroupRecord[]>();
  readonly history: GroupHistoryEntry[] = [];
  /** 'auto': appends succeed at once; 'manual': they wait in `pendingAppends`; or an error to fail them. */
  appendMode: 'auto' | 'manual' | ErrorCode = 'auto';
  readonly pendingAppends: { partition: number; records: readonly GroupRecord[]; done: (e: ErrorCode) => void }[] = [];
  private uuid = 0;
  coordinator!: GroupCoordinator;

  nowMs(): number {
    return this.now;
  }

  setTimer(name: string, delayMs: number, data: unknown): number {
    const id = ++this.timerSeq;
    this.timers.set(id, { dueMs: this.now + delayMs, name, data });
    return id;
  }

  cancelTimer(id: number): void {
    this.timers.delete(id);
  }

  append(partition: number, records: readonly GroupRecord[], done: (error: ErrorCode) => void): void {
    if (this.appendMode === 'auto') {
      this.commit(partition, records);
      done(Errors.NONE);
    } else if (this.appendMode === 'manual') {
      this.pendingAppends.push({ partition, records, done });
    } else {
      done(this.appendMode);
    }
  }

  /** Completes the oldest pending append (success writes its records to the log). */
  completeAppend(error: ErrorCode = Errors.NONE): void {
    const a = this.pendingAppends.shift();
    if (a === undefined) throw new Error('no pending append');
    if (error === Errors.NONE) this.commit(a.partition, a.records);
    a.done(error);
  }

  private commit(partition: number, records: readonly GroupRecord[]): void {
    const log = this.logs.get(partition) ?? [];
    log.push(...records);
    this.logs.set(partition, log);
  }

  log(partition: number): GroupRecord[] {
    return this.logs.get(partition) ?? [];
  }

  nextMemberUuid(): string {
    return `uuid${++this.uuid}`;
  }

  record(entry: GroupHistoryEntry): void {
    this.history.push(entry);
  }

  pendingTimers(): { dueMs: number; name: string; data: unknown }[] {
    return [...this.timers.values()];
  }

  /** Advances the clock by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next: [number, { dueMs: number; name: string; data: unknown }] | undefined;
      for (const e of this.timers) if (e[1].dueMs <= end && (next === undefined || e[1].dueMs < next[1].dueMs)) next = e;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.now = Math.max(this.now, next[1].dueMs);
      this.coordinator.onTimer(next[1].name, next[1].data);
    }
    this.now = end;
  }
}

export const GROUP = 'group-id';
export const PROTOCOLS: readonly JoinGroupRequestProtocol[] = [{ name: 'range', metadata: { topics: ['foo'] } }];

/** A parked request's answer, filled in when the coordinator responds. */
export class Answer<R extends GroupResponse> {
  response: R | undefined;
  count = 0;
  readonly set = (r: GroupResponse): void => {
    this.response = r as R;
    this.count++;
  };
  get done(): boolean {
    return this.response !== undefined;
  }
  get value(): R {
    if (this.response === undefined) throw new Error('no response yet');
    return this.response;
  }
}

export interface JoinOpts {
  memberId?: string;
  groupInstanceId?: string | null;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  protocols?: readonly JoinGroupRequestProtocol[];
  protocolType?: string;
  clientId?: string;
  groupId?: string;
}

/** A coordinator on a FakeHost, with every partition active, and request helpers. */
export class Rig {
  readonly host = new FakeHost();
  readonly coordinator: GroupCoordinator;
  private corr = 0;

  constructor(config: Partial<GroupCoordinatorConfig> = {}, opts: { loadAll?: boolean } = {}) {
    this.coordinator = new GroupCoordinator(this.host, { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 1, ...config });
    this.host.coordinator = this.coordinator;
    if (opts.loadAll !== false) {
      for (let p = 0; p < this.coordinator.config['offsets.topic.num.partitions']; p++) this.coordinator.loadPartition(p, []);
    }
  }

  join(o: JoinOpts = {}): Answer<JoinGroupResponse> {
    const a = new Answer<JoinGroupResponse>();
    this.coordinator.handle(
      {
        type: 'JoinGroupRequest',
        correlationId: ++this.corr,
        clientId: o.clientId ?? 'client',
        clientHost: 'localhost',
        groupId: o.groupId ?? GROUP,
        sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
        rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? 60_000,
        memberId: o.memberId ?? UNKNOWN_MEMBER_ID,
        groupInstanceId: o.groupInstanceId ?? null,
        protocolType: o.protocolType ?? CONSUMER_PROTOCOL_TYPE,
        protocols: o.protocols ?? PROTOCOLS,
        sizeBytes: 100,
      },
      a.set,
    );
    return a;
  }

  /** A dynamic member's two-step join (MEMBER_ID_REQUIRED, then the join with the id). */
  joinDynamic(o: JoinOpts = {}): { memberId: string; answer: Answer<JoinGroupResponse> } {
    const first = this.join({ ...o, memberId: UNKNOWN_MEMBER_ID });
    if (first.value.error !== Errors.MEMBER_ID_REQUIRED) throw new Error(`expected MEMBER_ID_REQUIRED, got ${first.value.error}`);
    const memberId = first.value.memberId;
    return { memberId, answer: this.join({ ...o, memberId }) };
  }

  sync(
    memberId: string,
    generationId: number,
    assignments: { memberId: string; assignment: MemberAssignment }[] = [],
    o: { groupInstanceId?: string | null; protocolType?: string | null; protocolName?: string | null; groupId?: string } = {},
  ): Answer<SyncGroupResponse> {
    const a = new Answer<SyncGroupResponse>();
    this.coordinator.handle(
      {
        type: 'SyncGroupRequest',
        correlationId: ++this.corr,
        groupId: o.groupId ?? GROUP,
        generationId,
        memberId,
        groupInstanceId: o.groupInstanceId ?? null,
        protocolType: o.protocolType === undefined ? null : o.protocolType,
        protocolName: o.protocolName === undefined ? null : o.protocolName,
        assignments,
        sizeBytes: 100,
      },
      a.set,
    );
    return a;
  }

  heartbeat(memberId: string, generationId: number, o: { groupInstanceId?: string | null; groupId?: string } = {}): HeartbeatResponse {
    const a = new Answer<HeartbeatResponse>();
    this.coordinator.handle(
      { type: 'HeartbeatRequest', correlationId: ++this.corr, groupId: o.groupId ?? GROUP, generationId, memberId, groupInstanceId: o.groupInstanceId ?? null, sizeBytes: 64 },
      a.set,
    );
    return a.value;
  }

  leave(members: { memberId: string; groupInstanceId?: string | null }[], groupId = GROUP): LeaveGroupResponse {
    const a = new Answer<LeaveGroupResponse>();
    this.coordinator.handle(
      { type: 'LeaveGroupRequest', correlationId: ++this.corr, groupId, members: members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null })), sizeBytes: 64 },
      a.set,
    );
    return a.value;
  }

  commit(
    o: { memberId?: string; generationId?: number; groupInstanceId?: string | null; groupId?: string; metadata?: string | null },
    offsets: { topic: string; partition: number; offset: number; leaderEpoch?: number }[],
  ): Answer<OffsetCommitResponse> {
    const a = new Answer<OffsetCommitResponse>();
    const byTopic = new Map<string, { partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; committedMetadata: string | null }[]>();
    for (const x of offsets) {
      const l = byTopic.get(x.topic) ?? [];
      l.push({ partitionIndex: x.partition, committedOffset: x.offset, committedLeaderEpoch: x.leaderEpoch ?? -1, committedMetadata: o.metadata === undefined ? '' : o.metadata });
      byTopic.set(x.topic, l);
    }
    this.coordinator.handle(
      {
        type: 'OffsetCommitRequest',
        correlationId: ++this.corr,
        groupId: o.groupId ?? GROUP,
        generationIdOrMemberEpoch: o.generationId ?? -1,
        memberId: o.memberId ?? '',
        groupInstanceId: o.groupInstanceId ?? null,
        retentionTimeMs: -1,
        topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
        sizeBytes: 64,
      },
      a.set,
    );
    return a;
  }

  fetch(topics: { name: string; partitionIndexes: number[] }[] | null, groupId = GROUP): OffsetFetchResponse {
    const a = new Answer<OffsetFetchResponse>();
    this.coordinator.handle({ type: 'OffsetFetchRequest', correlationId: ++this.corr, groupId, topics, requireStable: false, sizeBytes: 64 }, a.set);
    return a.value;
  }

  /**
   * A group of `n` dynamic members through one complete rebalance to Stable (generation 1 for a
   * new group), with the leader assigning `assign(memberIds)`.
   */
  stableGroup(n: number, o: JoinOpts = {}): { memberIds: string[]; leaderId: string; generationId: number } {
    const ids: string[] = [];
    const answers: Answer<JoinGroupResponse>[] = [];
    for (let i = 0; i < n; i++) {
      const j = this.joinDynamic({ ...o, clientId: `client${i}` });
      ids.push(j.memberId);
      answers.push(j.answer);
    }
    this.host.advance(this.coordinator.config['group.initial.rebalance.delay.ms'] + 1);
    const leaderId = answers[0].value.leader;
    const generationId = answers[0].value.generationId;
    const syncs = ids.map((id) =>
      this.sync(id, generationId, id === leaderId ? ids.map((m, k) => ({ memberId: m, assignment: { partitions: [{ topic: 'foo', partition: k }] } })) : []),
    );
    for (const s of syncs) if (s.value.error !== Errors.NONE) throw new Error(`sync failed ${s.value.error}`);
    return { memberIds: ids, leaderId, generationId };
  }
}
