import { describe, expect, it } from 'vitest';
import { ProducerCluster } from '../support/producer-cluster.js';
import { DEFAULT_BROKER_CONFIG } from '../../../src/kafka/broker/broker-config.js';
import type { Broker } from '../../../src/kafka/broker/broker.js';
import { groupCoordinatorPartition, offsetsTopicSpec, GROUP_METADATA_TOPIC_NAME } from '../../../src/kafka/group/coordinator-partition.js';
import { Errors } from '../../../src/kafka/protocol/errors.js';
import { CONSUMER_PROTOCOL_TYPE, COORDINATOR_TYPE_GROUP, UNKNOWN_MEMBER_ID, type GroupMessage } from '../../../src/kafka/protocol/group-messages.js';
import type { Message, Node, NodeContext } from '../../../src/world/node.js';
import { checkMonotonicCommittedOffsets, checkNoDoubleAssignment } from '../../../src/check/group-invariants.js';

/*
 * The group coordinator on real brokers: __consumer_offsets is a replicated topic, the broker
 * leading a group's partition answers FindCoordinator for it, writes group and offset records
 * with acks=all, and a broker that takes over the partition loads them from its log.
 */

const CLIENT_ID = 3000;
const OFFSETS_PARTITIONS = 5;

/** Sends exactly what the test says and keeps every answer. */
class GroupClient implements Node {
  readonly responses: { atMs: number; from: number; message: GroupMessage }[] = [];
  private correlationId = 1;
  constructor(private readonly ctx: NodeContext) {}
  start(): void {}
  onMessage(from: number, message: Message): void {
    this.responses.push({ atMs: this.ctx.nowUs() / 1000, from, message: message as GroupMessage });
  }
  onTimer(): void {}
  send(to: number, request: Record<string, unknown> & { type: string }): number {
    const correlationId = this.correlationId++;
    this.ctx.send(to, { ...request, correlationId, sizeBytes: 100 });
    return correlationId;
  }
  answer<T extends GroupMessage['type']>(correlationId: number): Extract<GroupMessage, { type: T }> | undefined {
    return this.responses.find((r) => (r.message as { correlationId: number }).correlationId === correlationId)?.message as Extract<GroupMessage, { type: T }> | undefined;
  }
}

function setUp(seed = 1, extra: Record<string, number> = {}) {
  const brokerConfig = { 'offsets.topic.num.partitions': OFFSETS_PARTITIONS, ...extra };
  const offsets = offsetsTopicSpec({ ...DEFAULT_BROKER_CONFIG, ...brokerConfig });
  const c = new ProducerCluster({ seed, brokerConfig, topics: [{ name: 'orders', partitions: 2, replicationFactor: 3 }, offsets] });
  c.world.addMachine({ id: CLIENT_ID, name: 'group-client', factory: (ctx) => new GroupClient(ctx) });
  c.world.machine(CLIENT_ID).start();
  c.runForMs(3_000);
  const client = c.world.machine(CLIENT_ID).process as GroupClient;
  return { c, client };
}

function roundTrip<T extends GroupMessage['type']>(c: ProducerCluster, client: GroupClient, to: number, request: Record<string, unknown> & { type: string }, maxMs = 10_000) {
  const id = client.send(to, request);
  c.runUntil(() => client.answer(id) !== undefined, maxMs);
  return client.answer<T>(id);
}

const join = (memberId: string) => ({
  type: 'JoinGroupRequest',
  clientId: 'consumer-1',
  clientHost: '/10.0.0.1',
  groupId: 'billing',
  sessionTimeoutMs: 45_000,
  rebalanceTimeoutMs: 300_000,
  memberId,
  groupInstanceId: null,
  protocolType: CONSUMER_PROTOCOL_TYPE,
  protocols: [{ name: 'range', metadata: { topics: ['orders'] } }],
});

function formGroupAndCommit(c: ProducerCluster, client: GroupClient) {
  const partition = groupCoordinatorPartition('billing', OFFSETS_PARTITIONS);
  const found = roundTrip<'FindCoordinatorResponse'>(c, client, 1, { type: 'FindCoordinatorRequest', keyType: COORDINATOR_TYPE_GROUP, coordinatorKeys: ['billing'] })!;
  const coordinator = found.coordinators[0].nodeId;
  const first = roundTrip<'JoinGroupResponse'>(c, client, coordinator, join(UNKNOWN_MEMBER_ID))!;
  const joined = roundTrip<'JoinGroupResponse'>(c, client, coordinator, join(first.memberId))!;
  const assignment = { partitions: [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }] };
  const synced = roundTrip<'SyncGroupResponse'>(c, client, coordinator, {
    type: 'SyncGroupRequest', groupId: 'billing', generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null,
    protocolType: CONSUMER_PROTOCOL_TYPE, protocolName: 'range', assignments: [{ memberId: joined.memberId, assignment }],
  })!;
  const committed = roundTrip<'OffsetCommitResponse'>(c, client, coordinator, {
    type: 'OffsetCommitRequest', groupId: 'billing', generationIdOrMemberEpoch: joined.generationId, memberId: joined.memberId, groupInstanceId: null, retentionTimeMs: -1,
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: 0, committedMetadata: null }, { partitionIndex: 1, committedOffset: 7, committedLeaderEpoch: 0, committedMetadata: null }] }],
  })!;
  return { partition, found, coordinator, first, joined, synced, committed, assignment };
}

describe('the group coordinator on the brokers', () => {
  it('FindCoordinator names the leader of abs(hashCode) % offsets.topic.num.partitions; join, sync and commit go through the replicated log', () => {
    const { c, client } = setUp();
    const r = formGroupAndCommit(c, client);
    const leader = (c.world.machine(r.coordinator).process as Broker).replicaManager.registration(GROUP_METADATA_TOPIC_NAME, r.partition)?.leader;
    expect(r.found.coordinators[0]).toEqual({ key: 'billing', nodeId: leader, error: Errors.NONE });
    expect(r.first.error).toBe(Errors.MEMBER_ID_REQUIRED);
    expect(r.first.memberId).toMatch(/^consumer-1-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect({ error: r.joined.error, generation: r.joined.generationId, leader: r.joined.leader === r.joined.memberId, protocol: r.joined.protocolName }).toEqual({ error: Errors.NONE, generation: 1, leader: true, protocol: 'range' });
    expect(r.synced).toMatchObject({ error: Errors.NONE, assignment: r.assignment });
    expect(r.committed.topics[0].partitions.map((p) => p.error)).toEqual([Errors.NONE, Errors.NONE]);
    // The records are in every replica of the group's __consumer_offsets partition.
    for (const id of c.brokerIds) {
      const log = (c.world.machine(id).process as Broker).replicaManager.partition(`${GROUP_METADATA_TOPIC_NAME}-${r.partition}`)?.log;
      const types = log!.batchesFrom(0).flatMap((b) => b.records.map((rec) => (JSON.parse(rec.value) as { type: string }).type));
      expect(types, `broker ${id}`).toEqual(['GroupMetadata', 'GroupMetadata', 'OffsetCommit', 'OffsetCommit']);
    }
  });

  it('a broker asked about a group it does not coordinate says NOT_COORDINATOR', () => {
    const { c, client } = setUp();
    const r = formGroupAndCommit(c, client);
    const other = c.brokerIds.find((id) => id !== r.coordinator)!;
    const fetched = roundTrip<'OffsetFetchResponse'>(c, client, other, { type: 'OffsetFetchRequest', groupId: 'billing', topics: null, requireStable: false })!;
    expect(fetched.error).toBe(Errors.NOT_COORDINATOR);
  });

  it('when the coordinator dies, the new leader of the partition loads the group and its offsets from the log', () => {
    const { c, client } = setUp();
    const r = formGroupAndCommit(c, client);
    c.world.machine(r.coordinator).crash();
    c.runForMs(15_000); // fenced after broker.session.timeout.ms; a new leader for the partition
    const survivor = c.brokerIds.find((id) => id !== r.coordinator)!;
    const found = roundTrip<'FindCoordinatorResponse'>(c, client, survivor, { type: 'FindCoordinatorRequest', keyType: COORDINATOR_TYPE_GROUP, coordinatorKeys: ['billing'] })!;
    const next = found.coordinators[0].nodeId;
    expect(next).not.toBe(r.coordinator);
    expect(found.coordinators[0].error).toBe(Errors.NONE);
    const fetched = roundTrip<'OffsetFetchResponse'>(c, client, next, { type: 'OffsetFetchRequest', groupId: 'billing', topics: null, requireStable: false })!;
    expect(fetched.error).toBe(Errors.NONE);
    expect(fetched.topics.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.committedOffset]))).toEqual([['orders', 0, 42], ['orders', 1, 7]]);
    const group = (c.world.machine(next).process as Broker).groupCoordinator.group('billing');
    expect({ state: group?.state, generation: group?.generationId }).toEqual({ state: 'Stable', generation: 1 });
    // The member's heartbeats stopped with the crash: the loaded member's session runs out.
    c.runForMs(50_000);
    expect(group?.state).toBe('Empty');
  });

  it('the group checks pass over a coordinator failover with replicated offsets', () => {
    const { c, client } = setUp();
    const r = formGroupAndCommit(c, client);
    c.world.machine(r.coordinator).crash();
    c.runForMs(15_000);
    const survivor = c.brokerIds.find((id) => id !== r.coordinator)!;
    roundTrip(c, client, survivor, { type: 'FindCoordinatorRequest', keyType: COORDINATOR_TYPE_GROUP, coordinatorKeys: ['billing'] });
    expect(c.world.history.some((h) => h.entry.type === 'group-loaded')).toBe(true);
    expect(checkNoDoubleAssignment(c.world.history)).toEqual([]);
    expect(checkMonotonicCommittedOffsets(c.world.history)).toEqual([]);
  });

  it('monotonic-committed-offsets: a lone, unflushed __consumer_offsets replica loses acknowledged commits in a power loss', () => {
    // offsets.topic.replication.factor=1 and no fsync (Kafka's default): the commit is acknowledged
    // once it is in the page cache of the only replica; the power loss takes it.
    const { c, client } = setUp(1, { 'offsets.topic.replication.factor': 1 });
    const r = formGroupAndCommit(c, client);
    expect(r.committed.topics[0].partitions.map((p) => p.error)).toEqual([Errors.NONE, Errors.NONE]);
    c.world.machine(r.coordinator).powerCycle(1_000_000);
    c.runForMs(15_000);
    const fetched = roundTrip<'OffsetFetchResponse'>(c, client, r.coordinator, { type: 'OffsetFetchRequest', groupId: 'billing', topics: null, requireStable: false })!;
    expect(fetched.error).toBe(Errors.NONE);
    expect(fetched.topics).toEqual([]);
    const v = checkMonotonicCommittedOffsets(c.world.history);
    expect(v.map((x) => [x.partition, x.offset, x.evidence?.loaded])).toEqual([
      ['orders-0', 42, null],
      ['orders-1', 7, null],
    ]);
  });
});
