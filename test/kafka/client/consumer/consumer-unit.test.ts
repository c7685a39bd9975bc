import { describe, expect, it } from 'vitest';
import { ConsumerCoordinator } from '../../../../src/kafka/client/consumer/consumer-coordinator.js';
import { ConfigException, DEFAULT_CONSUMER_CONFIG, parseConsumerConfig, rebalanceProtocol } from '../../../../src/kafka/client/consumer/consumer-config.js';
import { Fetcher } from '../../../../src/kafka/client/consumer/fetcher.js';
import { SubscriptionState } from '../../../../src/kafka/client/consumer/subscription-state.js';
import type { NetworkClient, ClientMessage, ClientResponse } from '../../../../src/kafka/client/network-client.js';
import { ProducerMetadata } from '../../../../src/kafka/client/producer/producer-metadata.js';
import { Errors, type ErrorCode } from '../../../../src/kafka/protocol/errors.js';
import type { MetadataResponse } from '../../../../src/kafka/protocol/messages.js';

describe('consumer config', () => {
  it('has Kafka 4.x defaults', () => {
    const c = parseConsumerConfig({ 'group.id': 'g' });
    expect(c['partition.assignment.strategy']).toEqual(['range', 'cooperative-sticky']);
    expect(c['session.timeout.ms']).toBe(45_000);
    expect(c['heartbeat.interval.ms']).toBe(3_000);
    expect(c['max.poll.interval.ms']).toBe(300_000);
    expect(c['max.poll.records']).toBe(500);
    expect(c['auto.offset.reset']).toBe('latest');
    expect(c['enable.auto.commit']).toBe(true);
    expect(c['auto.commit.interval.ms']).toBe(5_000);
    expect(c['fetch.min.bytes']).toBe(1);
    expect(c['fetch.max.wait.ms']).toBe(500);
    expect(c['request.timeout.ms']).toBe(30_000);
    expect(c['retry.backoff.ms']).toBe(100);
    expect(c['isolation.level']).toBe('read_uncommitted');
    expect(DEFAULT_CONSUMER_CONFIG['group.id']).toBeNull();
  });

  it('accepts simple and class names for the assignors, in order', () => {
    const c = parseConsumerConfig({ 'partition.assignment.strategy': 'org.apache.kafka.clients.consumer.CooperativeStickyAssignor, roundrobin' });
    expect(c['partition.assignment.strategy']).toEqual(['cooperative-sticky', 'roundrobin']);
    expect(() => parseConsumerConfig({ 'partition.assignment.strategy': ['com.example.Mine'] })).toThrow('Invalid value com.example.Mine for configuration partition.assignment.strategy: Class com.example.Mine cannot be found');
  });

  it('refuses what Kafka refuses, with its messages', () => {
    expect(() => parseConsumerConfig({ 'isolation.level': 'read_committed' })).toThrow(/transactions are not modelled yet/);
    expect(() => parseConsumerConfig({ 'auto.offset.reset': 'smallest' })).toThrow('Invalid value smallest for configuration auto.offset.reset: String must be one of: latest, earliest, none');
    expect(() => parseConsumerConfig({ 'group.id': 'g', 'heartbeat.interval.ms': 10_000, 'session.timeout.ms': 10_000 })).toThrow('Heartbeat must be set lower than the session timeout');
    expect(() => parseConsumerConfig({ 'enable.auto.commit': true })).toThrow('enable.auto.commit cannot be set to true when default group id (null) is used.');
    expect(parseConsumerConfig({})['enable.auto.commit']).toBe(false);
    expect(() => parseConsumerConfig({ 'max.poll.records': 0 })).toThrow('Invalid value 0 for configuration max.poll.records: Value must be at least 1');
    expect(() => parseConsumerConfig({ 'max.poll.recrods': 5 } as never)).toThrow(ConfigException);
  });

  it('picks the rebalance protocol every configured assignor supports (ConsumerCoordinator)', () => {
    expect(rebalanceProtocol(['range', 'cooperative-sticky'])).toBe('EAGER');
    expect(rebalanceProtocol(['cooperative-sticky'])).toBe('COOPERATIVE');
    expect(rebalanceProtocol(['sticky'])).toBe('EAGER');
  });
});

interface Sent {
  to: number;
  msg: ClientMessage;
  onResponse: (r: ClientResponse) => void;
  onDisconnect: () => void;
}

/** A NetworkClient stand-in: requests are captured and answered by the test. */
class FakeNetwork {
  sent: Sent[] = [];
  disconnected: number[] = [];
  send(to: number, msg: ClientMessage, onResponse: (r: ClientResponse) => void, onDisconnect: () => void): void {
    this.sent.push({ to, msg, onResponse, onDisconnect });
  }
  disconnect(node: number): void {
    this.disconnected.push(node);
    const failed = this.sent.filter((s) => s.to === node);
    this.sent = this.sent.filter((s) => s.to !== node);
    for (const s of failed) s.onDisconnect();
  }
  leastLoadedNode(c: readonly number[]): number {
    return c[0];
  }
  earliestReconnectMs(): number {
    return 0;
  }
  connectionDelayMs(): number {
    return 0;
  }
  /** Takes the oldest request of this type. */
  take(type: string): Sent {
    const i = this.sent.findIndex((s) => s.msg.type === type);
    if (i < 0) throw new Error(`no ${type} sent; sent: ${this.sent.map((s) => s.msg.type).join(', ')}`);
    return this.sent.splice(i, 1)[0];
  }
  has(type: string): boolean {
    return this.sent.some((s) => s.msg.type === type);
  }
}

function metadataResponse(leader: number, leaderEpoch: number, partitions = 2): MetadataResponse {
  return {
    type: 'MetadataResponse',
    correlationId: 0,
    brokers: [{ brokerId: 1, rack: null }, { brokerId: 2, rack: null }],
    topics: [{ topic: 't', error: Errors.NONE, partitions: Array.from({ length: partitions }, (_, p) => ({ partition: p, error: Errors.NONE, leader, leaderEpoch, replicas: [1, 2], isr: [1, 2] })) }],
    sizeBytes: 0,
  };
}

function coordinatorRig(config: Record<string, unknown> = {}) {
  let now = 0;
  const network = new FakeNetwork();
  const metadata = new ProducerMetadata(300_000, () => 100);
  const subscriptions = new SubscriptionState('earliest');
  const history: ({ type: string } & Record<string, unknown>)[] = [];
  const c = parseConsumerConfig({ 'group.id': 'g', ...config });
  const coordinator = new ConsumerCoordinator(c, {
    nowMs: () => now,
    network: network as unknown as NetworkClient,
    metadata,
    subscriptions,
    brokers: () => [1, 2],
    record: (e) => history.push(e),
    retryBackoffMs: () => 100,
    invokeCallback: (callback, partitions) => history.push({ type: 'rebalance-callback', callback, partitions }),
    assignmentChanged: (reason) => history.push({ type: 'assignment', reason }),
  });
  subscriptions.subscribe(['t']);
  metadata.add('t');
  metadata.update(metadataResponse(1, 0), 0);
  const respond = (s: Sent, r: Record<string, unknown>) => s.onResponse({ correlationId: 0, sizeBytes: 0, ...r } as unknown as ClientResponse);
  const rig = {
    network,
    metadata,
    subscriptions,
    history,
    coordinator,
    respond,
    at: (ms: number) => (now = ms),
    /** Drives FindCoordinator → JoinGroup (MEMBER_ID_REQUIRED, then leader) → SyncGroup to STABLE in generation `gen`. */
    join(gen = 1, memberId = 'm1'): void {
      coordinator.poll(now);
      if (network.has('FindCoordinatorRequest')) {
        respond(network.take('FindCoordinatorRequest'), { type: 'FindCoordinatorResponse', coordinators: [{ key: 'g', nodeId: 1, error: Errors.NONE }] });
        coordinator.poll(now);
      }
      let join = network.take('JoinGroupRequest');
      if ((join.msg as { memberId: string }).memberId === '') {
        respond(join, { type: 'JoinGroupResponse', error: Errors.MEMBER_ID_REQUIRED, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId, members: [] });
        coordinator.poll(now);
        join = network.take('JoinGroupRequest');
      }
      expect((join.msg as { memberId: string }).memberId).toBe(memberId);
      respond(join, { type: 'JoinGroupResponse', error: Errors.NONE, generationId: gen, protocolType: 'consumer', protocolName: 'range', leader: memberId, skipAssignment: false, memberId, members: [{ memberId, groupInstanceId: null, metadata: { topics: ['t'] } }] });
      // The leader assigns once metadata is fresh.
      expect(network.has('SyncGroupRequest')).toBe(false);
      metadata.update(metadataResponse(1, 0), now);
      coordinator.onMetadataUpdate();
      const sync = network.take('SyncGroupRequest');
      const assignments = (sync.msg as unknown as { assignments: { memberId: string; assignment: unknown }[] }).assignments;
      respond(sync, { type: 'SyncGroupResponse', error: Errors.NONE, protocolType: 'consumer', protocolName: 'range', assignment: assignments.find((a) => a.memberId === memberId)!.assignment });
      expect(coordinator.poll(now)).toBe(true);
    },
    heartbeatError(error: ErrorCode): void {
      coordinator.heartbeatStep(now);
      respond(network.take('HeartbeatRequest'), { type: 'HeartbeatResponse', error });
    },
  };
  return rig;
}

describe('ConsumerCoordinator (AbstractCoordinator error handling)', () => {
  it('joins: MEMBER_ID_REQUIRED then the leader assigns and syncs', () => {
    const r = coordinatorRig();
    r.join();
    expect(r.coordinator.state).toBe('STABLE');
    expect(r.coordinator.generation).toEqual({ generationId: 1, memberId: 'm1', protocolName: 'range' });
    expect(r.subscriptions.assignedPartitions()).toEqual([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    expect(r.history.filter((e) => e.type === 'rebalance-callback').map((e) => e.callback)).toEqual(['onPartitionsAssigned']);
  });

  it('heartbeats every heartbeat.interval.ms while the application is busy', () => {
    const r = coordinatorRig();
    r.join();
    expect(r.coordinator.heartbeatStep(1000)).toBe(3000);
    r.at(3000);
    r.coordinator.heartbeatStep(3000);
    r.respond(r.network.take('HeartbeatRequest'), { type: 'HeartbeatResponse', error: Errors.NONE });
    r.at(6000);
    r.coordinator.heartbeatStep(6000);
    expect(r.network.has('HeartbeatRequest')).toBe(true);
  });

  it('ILLEGAL_GENERATION keeps the member id; the next join loses the partitions', () => {
    const r = coordinatorRig();
    r.join();
    r.at(3000);
    r.heartbeatError(Errors.ILLEGAL_GENERATION);
    expect(r.coordinator.generation).toEqual({ generationId: -1, memberId: 'm1', protocolName: null });
    expect(r.coordinator.state).toBe('UNJOINED');
    r.coordinator.poll(3000);
    expect(r.history.filter((e) => e.type === 'rebalance-callback').map((e) => e.callback)).toEqual(['onPartitionsAssigned', 'onPartitionsLost']);
    expect((r.network.take('JoinGroupRequest').msg as { memberId: string }).memberId).toBe('m1');
  });

  it('UNKNOWN_MEMBER_ID resets the member id too', () => {
    const r = coordinatorRig();
    r.join();
    r.at(3000);
    r.heartbeatError(Errors.UNKNOWN_MEMBER_ID);
    expect(r.coordinator.generation.memberId).toBe('');
    r.coordinator.poll(3000);
    expect((r.network.take('JoinGroupRequest').msg as { memberId: string }).memberId).toBe('');
  });

  it('REBALANCE_IN_PROGRESS in a heartbeat asks for a rejoin; eager revokes everything before the JoinGroup', () => {
    const r = coordinatorRig();
    r.join();
    r.at(3000);
    r.heartbeatError(Errors.REBALANCE_IN_PROGRESS);
    expect(r.coordinator.state).toBe('STABLE');
    expect(r.network.has('JoinGroupRequest')).toBe(false); // only the application's next poll rejoins
    r.coordinator.poll(3000);
    // With auto-commit on, onJoinPrepare first commits (nothing consumed: nothing sent) then revokes.
    expect(r.history.filter((e) => e.type === 'rebalance-callback').map((e) => e.callback)).toEqual(['onPartitionsAssigned', 'onPartitionsRevoked']);
    expect(r.subscriptions.assignedPartitions()).toEqual([]);
    expect((r.network.take('JoinGroupRequest').msg as { memberId: string }).memberId).toBe('m1');
  });

  it('NOT_COORDINATOR marks the coordinator unknown, disconnects and rediscovers it', () => {
    const r = coordinatorRig();
    r.join();
    r.at(3000);
    r.heartbeatError(Errors.NOT_COORDINATOR);
    expect(r.coordinator.coordinator).toBeNull();
    expect(r.network.disconnected).toEqual([1]);
    r.coordinator.heartbeatStep(3000);
    expect(r.network.has('FindCoordinatorRequest')).toBe(true);
    expect(r.coordinator.generation.generationId).toBe(1); // membership is kept
  });

  it('FENCED_INSTANCE_ID on JoinGroup is fatal', () => {
    const r = coordinatorRig({ 'group.instance.id': 'i1' });
    r.coordinator.poll(0);
    r.respond(r.network.take('FindCoordinatorRequest'), { type: 'FindCoordinatorResponse', coordinators: [{ key: 'g', nodeId: 1, error: Errors.NONE }] });
    r.coordinator.poll(0);
    r.respond(r.network.take('JoinGroupRequest'), { type: 'JoinGroupResponse', error: Errors.FENCED_INSTANCE_ID, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId: '', members: [] });
    expect(r.coordinator.poll(0)).toBe(false);
    expect(r.coordinator.fatalError).toBe('FENCED_INSTANCE_ID');
  });

  it('poll() not called within max.poll.interval.ms: the heartbeat thread sends LeaveGroup and resets the generation', () => {
    const r = coordinatorRig({ 'max.poll.interval.ms': 10_000 });
    r.join();
    // Heartbeats succeed, but the application never polls again.
    for (let t = 3000; t < 10_000; t += 3000) {
      r.at(t);
      r.heartbeatError(Errors.NONE);
    }
    r.at(10_000);
    expect(r.coordinator.heartbeatStep(10_000)).toBe(Infinity);
    const leave = r.network.take('LeaveGroupRequest').msg as unknown as { members: { memberId: string; reason: string }[] };
    expect(leave.members).toEqual([{ memberId: 'm1', groupInstanceId: null, reason: 'consumer poll timeout has expired.' }]);
    expect(r.coordinator.generation.memberId).toBe('');
    expect(r.coordinator.state).toBe('UNJOINED');
  });

  it('commits with the stable generation; outside it, CommitFailedException without a request', () => {
    const r = coordinatorRig({ 'enable.auto.commit': false });
    r.join();
    const results: (string | null)[] = [];
    r.coordinator.commitOffsetsAsync([{ topic: 't', partition: 0, offset: 5, leaderEpoch: 0 }], 'sync', (f) => results.push(f?.error ?? null));
    const req = r.network.take('OffsetCommitRequest').msg as { generationIdOrMemberEpoch: number; memberId: string };
    expect([req.generationIdOrMemberEpoch, req.memberId]).toEqual([1, 'm1']);
    r.at(3000);
    r.heartbeatError(Errors.UNKNOWN_MEMBER_ID);
    r.coordinator.commitOffsetsAsync([{ topic: 't', partition: 0, offset: 6, leaderEpoch: 0 }], 'sync', (f) => results.push(f?.error ?? null));
    expect(r.network.has('OffsetCommitRequest')).toBe(false);
    expect(results[0]).toMatch(/^CommitFailedException/);
  });
});

describe('Fetcher: position validation after a leader change (KIP-320)', () => {
  function fetcherRig(reset: 'earliest' | 'none' = 'earliest', epochFencing = true) {
    const network = new FakeNetwork();
    const metadata = new ProducerMetadata(300_000, () => 100);
    const subscriptions = new SubscriptionState(reset);
    const history: ({ type: string } & Record<string, unknown>)[] = [];
    const raised: string[] = [];
    const c = parseConsumerConfig({});
    const fetcher = new Fetcher(c, { nowMs: () => 0, network: network as unknown as NetworkClient, metadata, subscriptions, epochFencing, record: (e) => history.push(e), retryBackoffMs: () => 100, raise: (e) => raised.push(e) });
    metadata.add('t');
    metadata.update(metadataResponse(1, 1, 1), 0);
    subscriptions.assignFromUser([{ topic: 't', partition: 0 }]);
    const s = subscriptions.states()[0];
    // Consumed up to offset 10; the last record came in epoch 1 from leader 1.
    subscriptions.seekValidated(s, { offset: 10, offsetEpoch: 1, leader: 1, leaderEpoch: 1 });
    // Leader 2 takes over in epoch 2.
    metadata.update(metadataResponse(2, 2, 1), 0);
    fetcher.validatePositionsOnMetadataChange();
    return { network, fetcher, s, history, raised, subscriptions };
  }

  function answer(r: ReturnType<typeof fetcherRig>, leaderEpoch: number, endOffset: number) {
    r.fetcher.validatePositionsIfNeeded(0);
    const req = r.network.take('OffsetForLeaderEpochRequest');
    expect(req.to).toBe(2);
    expect((req.msg as unknown as { partitions: unknown[] }).partitions).toEqual([{ topic: 't', partition: 0, currentLeaderEpoch: 2, leaderEpoch: 1 }]);
    req.onResponse({ type: 'OffsetForLeaderEpochResponse', correlationId: 0, sizeBytes: 0, partitions: [{ topic: 't', partition: 0, error: Errors.NONE, leaderEpoch, endOffset }] } as ClientResponse);
  }

  it('a log truncated below the position: reset to the end offset of the epoch, recorded', () => {
    const r = fetcherRig();
    expect(r.s.fetchState).toBe('AWAIT_VALIDATION');
    answer(r, 1, 7);
    expect(r.s.fetchState).toBe('FETCHING');
    expect(r.s.position?.offset).toBe(7);
    expect(r.history.filter((e) => e.type === 'truncation-detected')).toEqual([{ type: 'truncation-detected', topic: 't', partition: 0, offset: 10, offsetEpoch: 1, endOffset: 7, endEpoch: 1, resetTo: 7 }]);
  });

  it('no truncation: the position stands', () => {
    const r = fetcherRig();
    answer(r, 1, 12);
    expect(r.s.fetchState).toBe('FETCHING');
    expect(r.s.position?.offset).toBe(10);
    expect(r.history.some((e) => e.type === 'truncation-detected')).toBe(false);
  });

  it('with auto.offset.reset=none, LogTruncationException', () => {
    const r = fetcherRig('none');
    answer(r, 1, 7);
    expect(r.raised[0]).toMatch(/^LogTruncationException/);
  });

  it('without the fetchEpochFencing switch the position is never validated', () => {
    const r = fetcherRig('earliest', false);
    expect(r.s.fetchState).toBe('FETCHING');
    r.fetcher.validatePositionsIfNeeded(0);
    expect(r.network.has('OffsetForLeaderEpochRequest')).toBe(false);
  });
});
