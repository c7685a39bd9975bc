import { describe, expect, it } from 'vitest';
import type { SendHandle } from '../../../src/kafka/client/producer/send-handle.js';
import { ProducerCluster } from '../support/producer-cluster.js';

function setup(config: Parameters<ProducerCluster['addProducer']>[0] = {}, cluster: ConstructorParameters<typeof ProducerCluster>[0] = {}) {
  const c = new ProducerCluster({ seed: 3, ...cluster });
  c.awaitLeaders();
  const p = c.producer(c.addProducer(config));
  c.runForMs(200);
  return { c, p };
}

const nowMs = (c: ProducerCluster) => Math.floor(c.world.nowUs / 1000);

describe('metadata', () => {
  it('after the leader crashes: its kernel resets the connection, metadata is refreshed until the controller moves leadership, and the records go to the new leader', () => {
    const { c, p } = setup({ config: { 'request.timeout.ms': 2000, 'linger.ms': 0 } });
    const first = Array.from({ length: 5 }, (_, i) => p.send({ topic: 'orders', value: `a${i}` }));
    c.runForMs(100);
    const oldLeader = c.leader();
    expect(p.leaderOf('orders', 0)).toBe(oldLeader);
    expect(p.stats.metadataRequests).toBe(1);
    c.world.machine(oldLeader).crash();
    const t0 = nowMs(c);
    const second = Array.from({ length: 5 }, (_, i) => p.send({ topic: 'orders', value: `b${i}` }));
    expect(c.runUntil(() => second.every((h) => h.isDone), 30_000)).toBe(true);
    const newLeader = c.leader();
    expect(newLeader).not.toBe(oldLeader);
    expect(p.leaderOf('orders', 0)).toBe(newLeader);
    expect([...first, ...second].map((h) => [h.status, h.offset])).toEqual([...Array(10).keys()].map((i) => ['ok', i]));
    expect(c.logValues(newLeader)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2', 'b3', 'b4']);
    // The controller fences the dead broker after broker.session.timeout.ms (9 s).
    expect(second[0].completedAtMs - t0).toBeGreaterThan(8_000);
    // Each retry to the dead broker is answered by a reset (the machine is up, the process is
    // not), and each disconnect asks for fresh metadata (NetworkClient.handleServerDisconnect).
    expect(p.stats.metadataRequests).toBe(14);
    // The five first-round batches, then retries that met the dead broker again before the
    // metadata moved the partition.
    expect(p.stats.batchesRetried).toBe(13);
  });

  it('refreshes every metadata.max.age.ms without any error', () => {
    const { c, p } = setup({ config: { 'metadata.max.age.ms': 1000 } });
    const before = p.stats.metadataRequests;
    c.runForMs(10_000);
    expect(p.stats.metadataRequests - before).toBe(10);
  });

  it('a send to a topic that never appears fails after max.block.ms, definitely not written', () => {
    const { c, p } = setup({ config: { 'max.block.ms': 3000 } });
    const h = p.send({ topic: 'nope', value: 'x' });
    c.runForMs(2999);
    expect(h.status).toBe('pending');
    c.runForMs(2);
    expect([h.status, h.outcome, h.error]).toEqual(['error', 'fail', 'TimeoutException: Topic nope not present in metadata after 3000 ms.']);
    expect(h.completedAtMs - h.sentAtMs).toBe(3000);
  });

  it('a partition beyond the topic’s partition count waits, then fails with Kafka’s message', () => {
    const { c, p } = setup({ config: { 'max.block.ms': 1000 } });
    const h = p.send({ topic: 'orders', value: 'x', partition: 5 });
    c.runForMs(1500);
    expect(h.error).toBe('TimeoutException: Partition 5 of topic orders with partition count 1 is not present in metadata after 1000 ms.');
  });
});

describe('delivery.timeout.ms', () => {
  /** A topic with one replica, whose broker is cut off: the partition has no reachable leader. */
  function partitionedLeader() {
    const { c, p } = setup(
      { config: { 'request.timeout.ms': 2000, 'delivery.timeout.ms': 5000, 'linger.ms': 0, 'metadata.max.age.ms': 1000 } },
      { topics: [{ name: 'orders', partitions: 1, replicationFactor: 1 }] },
    );
    c.world.network.isolate(c.leader());
    return { c, p };
  }

  it('records sent to the partitioned leader fail with TimeoutException after delivery.timeout.ms, as info', () => {
    const { c, p } = partitionedLeader();
    const sent = [p.send({ topic: 'orders', value: 'a0' }), p.send({ topic: 'orders', value: 'a1' })];
    c.runForMs(4999);
    expect(sent.map((h) => h.status)).toEqual(['pending', 'pending']);
    c.runForMs(2);
    for (const h of sent) {
      expect([h.status, h.outcome, h.error]).toEqual(['error', 'info', 'TimeoutException: Expiring 2 record(s) for orders-0:5000 ms has passed since batch creation']);
      expect(h.completedAtMs - h.sentAtMs).toBe(5000);
    }
    expect(p.stats.produceRequests).toBe(3);
    expect(c.sendHistory().filter((e) => e.phase !== 'invoke')).toEqual(
      sent.map((h) => ({ type: 'send', phase: 'info', value: h.value, topic: 'orders', partition: 0, error: h.error })),
    );
  });

  it('records that were never sent (the partition has no leader) fail the same way, as fail', () => {
    const { c, p } = partitionedLeader();
    // The controller fences the isolated broker; the partition goes offline (leader -1).
    c.runForMs(12_000);
    expect(c.leader()).toBe(-1);
    expect(p.leaderOf('orders', 0)).toBe(null);
    const requestsBefore = p.stats.produceRequests;
    const never = [p.send({ topic: 'orders', value: 'b0' }), p.send({ topic: 'orders', value: 'b1' })];
    c.runForMs(6000);
    for (const h of never) {
      expect([h.status, h.outcome, h.error]).toEqual(['error', 'fail', 'TimeoutException: Expiring 2 record(s) for orders-0:5000 ms has passed since batch creation']);
    }
    expect(p.stats.produceRequests).toBe(requestsBefore);
  });

  it('an idempotent producer bumps its epoch after a sent batch expired, since its sequence is in doubt', () => {
    const { c, p } = partitionedLeader();
    const epochBefore = p.producerIdAndEpoch!.epoch;
    p.send({ topic: 'orders', value: 'a0' });
    c.runForMs(6000);
    expect(p.producerIdAndEpoch!.epoch).toBeGreaterThan(epochBefore);
  });
});

describe('buffer.memory', () => {
  /** Two 200-byte batches fill the 400-byte pool; each 108-byte record needs its own batch. */
  function fullPool(maxBlockMs: number) {
    const { c, p } = setup({ config: { 'linger.ms': 0, 'batch.size': 200, 'buffer.memory': 400, 'max.block.ms': maxBlockMs } });
    const leader = c.leader();
    c.world.machine(leader).pause();
    const handles: SendHandle[] = Array.from({ length: 3 }, (_, i) => p.send({ topic: 'orders', value: `v${i}`.padEnd(100, '.') }));
    c.runForMs(1);
    return { c, p, leader, handles };
  }

  it('blocks a send while the pool is exhausted and fails it after max.block.ms with BufferExhaustedException', () => {
    const { c, p, handles } = fullPool(1000);
    expect(p.stats.blockedSends).toBe(1);
    expect(p.stats.availableMemoryBytes).toBe(0);
    c.runForMs(998);
    expect(handles[2].status).toBe('pending');
    c.runForMs(2);
    expect([handles[2].status, handles[2].outcome, handles[2].error]).toEqual([
      'error',
      'fail',
      'BufferExhaustedException: Failed to allocate 200 bytes within the configured max blocking time 1000 ms. Total memory: 400 bytes. Available memory: 0 bytes. Poolable size: 200 bytes',
    ]);
    expect(handles[2].completedAtMs - handles[2].sentAtMs).toBe(1000);
    expect(handles.slice(0, 2).map((h) => h.status)).toEqual(['pending', 'pending']);
  });

  it('lets the blocked send through once a batch completes and frees its memory', () => {
    const { c, p, leader, handles } = fullPool(5000);
    c.runForMs(500);
    c.world.machine(leader).resume();
    c.runForMs(100);
    expect(handles.map((h) => [h.status, h.offset])).toEqual([
      ['ok', 0],
      ['ok', 1],
      ['ok', 2],
    ]);
    expect(p.stats.blockedSends).toBe(0);
    expect(p.stats.availableMemoryBytes).toBe(400);
  });

  it('sends behind a blocked one wait their turn, in order', () => {
    const { c, leader, handles } = fullPool(5000);
    const later = c.producer().send({ topic: 'orders', value: 'small' });
    c.runForMs(200);
    expect(later.status).toBe('pending');
    c.world.machine(leader).resume();
    c.runForMs(100);
    expect([...handles, later].map((h) => h.offset)).toEqual([0, 1, 2, 3]);
  });
});
