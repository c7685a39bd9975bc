import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../../src/kafka/client/murmur2.js';
import type { SendHandle } from '../../../src/kafka/client/producer/send-handle.js';
import { ProducerCluster } from '../support/producer-cluster.js';

/** A cluster with its leaders elected and one producer that has fetched metadata. */
function setup(config: Parameters<ProducerCluster['addProducer']>[0] = {}, cluster: ConstructorParameters<typeof ProducerCluster>[0] = {}) {
  const c = new ProducerCluster({ seed: 3, ...cluster });
  c.awaitLeaders();
  const p = c.producer(c.addProducer(config));
  c.runForMs(200);
  return { c, p };
}

const elapsed = (h: SendHandle, from: number) => h.completedAtMs - from;

describe('batching: linger.ms', () => {
  it('holds a batch for linger.ms, so records sent 2 ms apart go in one batch and one request', () => {
    const { c, p } = setup({ config: { 'linger.ms': 50 } });
    const handles: SendHandle[] = [];
    for (let i = 0; i < 10; i++) {
      handles.push(p.send({ topic: 'orders', value: `v${i}` }));
      c.runForMs(2);
    }
    c.runForMs(500);
    expect(handles.map((h) => h.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(p.stats.produceRequests).toBe(1);
    expect(c.logBatches(c.leader())).toEqual([['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9']]);
    // Sent when the batch had lingered 50 ms, answered after the replication round trips.
    expect(elapsed(handles[0], handles[0].sentAtMs)).toBeGreaterThanOrEqual(50);
    expect(elapsed(handles[0], handles[0].sentAtMs)).toBeLessThan(60);
  });

  it('with linger.ms=0 sends each record on its own once the previous one is out', () => {
    const { c, p } = setup({ config: { 'linger.ms': 0 } });
    for (let i = 0; i < 5; i++) {
      p.send({ topic: 'orders', value: `v${i}` });
      c.runForMs(2);
    }
    c.runForMs(500);
    expect(p.stats.produceRequests).toBe(5);
    expect(c.logBatches(c.leader())).toEqual([['v0'], ['v1'], ['v2'], ['v3'], ['v4']]);
  });

  it('still batches records sent in the same instant (the sender runs as its own step)', () => {
    const { c, p } = setup({ config: { 'linger.ms': 0 } });
    for (let i = 0; i < 4; i++) p.send({ topic: 'orders', value: `v${i}` });
    c.runForMs(500);
    expect(c.logBatches(c.leader())).toEqual([['v0', 'v1', 'v2', 'v3']]);
  });
});

describe('flush', () => {
  it('makes lingering batches sendable at once', () => {
    const { c, p } = setup({ config: { 'linger.ms': 10_000 } });
    const handles = Array.from({ length: 3 }, (_, i) => p.send({ topic: 'orders', value: `v${i}` }));
    c.runForMs(100);
    expect(handles.map((h) => h.status)).toEqual(['pending', 'pending', 'pending']);
    p.flush();
    c.runForMs(20);
    expect(handles.map((h) => h.offset)).toEqual([0, 1, 2]);
  });
});

describe('batching: batch.size', () => {
  it('closes a batch that would pass batch.size; full batches go at once, the last one waits for linger.ms', () => {
    // Each record is 8 + 40 bytes; a batch is 61 + 48 n: two records (157) fit in 200, three (205) do not.
    const { c, p } = setup({ config: { 'linger.ms': 1000, 'batch.size': 200 } });
    const handles = Array.from({ length: 9 }, (_, i) => p.send({ topic: 'orders', value: `v${i}`.padEnd(40, '.') }));
    const t0 = handles[0].sentAtMs;
    c.runForMs(2000);
    expect(c.logBatches(c.leader()).map((b) => b.length)).toEqual([2, 2, 2, 2, 1]);
    expect(handles.map((h) => h.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // The four closed batches are ready at once (a batch waits behind each); the fifth lingers 1 s.
    for (const h of handles.slice(0, 8)) expect(elapsed(h, t0)).toBeLessThan(20);
    expect(elapsed(handles[8], t0)).toBeGreaterThanOrEqual(1000);
    expect(p.stats.produceRequests).toBe(5);
  });

  it('puts the batches of several partitions led by one broker into one request', () => {
    const { c, p } = setup({ config: { 'linger.ms': 20 } }, { brokers: 1, topics: [{ name: 'orders', partitions: 3, replicationFactor: 1 }] });
    const handles = Array.from({ length: 9 }, (_, i) => p.send({ topic: 'orders', key: `k${i}`, value: `v${i}` }));
    c.runForMs(500);
    expect(p.stats.produceRequests).toBe(1);
    expect(p.stats.batchesSent).toBe(3);
    expect(handles.every((h) => h.status === 'ok')).toBe(true);
    // Keyed records go where Kafka's murmur2 sends them, in send order within each partition.
    expect(handles.map((h) => h.partition)).toEqual(handles.map((h) => partitionForKey(h.key!, 3)));
    for (let part = 0; part < 3; part++) {
      expect(c.logValues(1, 'orders', part)).toEqual(handles.filter((h) => h.partition === part).map((h) => h.value));
    }
  });
});

describe('partitioning through the producer', () => {
  it('an explicit partition wins, and a custom partitioner decides for the rest', () => {
    const { c, p } = setup({ partitioner: () => 2 }, { brokers: 1, topics: [{ name: 'orders', partitions: 3, replicationFactor: 1 }] });
    const a = p.send({ topic: 'orders', key: 'k', value: 'a' });
    const b = p.send({ topic: 'orders', value: 'b', partition: 0 });
    c.runForMs(200);
    expect([a.partition, a.offset, b.partition, b.offset]).toEqual([2, 0, 0, 0]);
  });

  it('sends without a key stick to one partition until batch.size bytes went to it (KIP-794)', () => {
    const { c, p } = setup({ config: { 'batch.size': 200, 'linger.ms': 0 } }, { brokers: 1, topics: [{ name: 'orders', partitions: 3, replicationFactor: 1 }] });
    const handles = Array.from({ length: 12 }, (_, i) => p.send({ topic: 'orders', value: `v${i}`.padEnd(40, '.') }));
    c.runForMs(500);
    const parts = handles.map((h) => h.partition);
    // 48 bytes a record: the partition switches after 200 bytes, i.e. every 5th record.
    const runs = parts.reduce<number[]>((acc, part, i) => (i === 0 || part !== parts[i - 1] ? [...acc, 1] : [...acc.slice(0, -1), acc[acc.length - 1] + 1]), []);
    expect(runs).toEqual([5, 5, 2]);
  });
});

describe('acks', () => {
  /** Followers paused: only the leader appends. replica.lag.time.max.ms 2 s so the ISR shrinks soon. */
  function pausedFollowers(acks: 0 | 1 | 'all') {
    const { c, p } = setup({ config: { acks, 'linger.ms': 0 } }, { brokerConfig: { 'replica.lag.time.max.ms': 2000 } });
    const leader = c.leader();
    for (const b of c.brokerIds) if (b !== leader) c.world.machine(b).pause();
    const leaderLog = () => c.broker(leader).replicaManager.partition('orders-0')!.log;
    const hwAtAck: number[] = [];
    const handles = Array.from({ length: 3 }, (_, i) => p.send({ topic: 'orders', value: `v${i}` }));
    for (const h of handles) h.onComplete(() => hwAtAck.push(leaderLog().highWatermark));
    return { c, p, handles, hwAtAck, leaderLog };
  }

  it('acks=1: acknowledged by the leader alone, before any follower has the records', () => {
    const { c, handles, hwAtAck, leaderLog } = pausedFollowers(1);
    c.runForMs(50);
    expect(handles.map((h) => [h.status, h.offset])).toEqual([
      ['ok', 0],
      ['ok', 1],
      ['ok', 2],
    ]);
    expect(hwAtAck).toEqual([0, 0, 0]);
    expect(leaderLog().logEndOffset).toBe(3);
  });

  it('acks=all: waits for the ISR; acknowledged only once it shrank to the leader and the HW passed the records', () => {
    const { c, handles, hwAtAck } = pausedFollowers('all');
    c.runForMs(1000);
    expect(handles.map((h) => h.status)).toEqual(['pending', 'pending', 'pending']);
    c.runForMs(5000);
    expect(handles.map((h) => [h.status, h.offset])).toEqual([
      ['ok', 0],
      ['ok', 1],
      ['ok', 2],
    ]);
    expect(hwAtAck.every((hw) => hw >= 3)).toBe(true);
    expect(c.partitionState()!.isr).toEqual([c.leader()]);
    expect(elapsed(handles[0], handles[0].sentAtMs)).toBeGreaterThanOrEqual(2000);
  });

  it('acks=0: complete as soon as sent, with offset -1; the history says info, since nothing confirms them', () => {
    const { c, p, handles } = pausedFollowers(0);
    c.runForMs(50);
    expect(handles.map((h) => [h.status, h.offset])).toEqual([
      ['ok', -1],
      ['ok', -1],
      ['ok', -1],
    ]);
    expect(p.idempotent).toBe(false);
    expect(c.sendHistory().map((e) => e.phase)).toEqual(['invoke', 'invoke', 'invoke', 'info', 'info', 'info']);
    expect(c.logValues(c.leader())).toEqual(['v0', 'v1', 'v2']);
  });

  it('acks=0 to a crashed leader: reported sent, and lost', () => {
    const { c, p } = setup({ config: { acks: 0, 'linger.ms': 0 } });
    const leader = c.leader();
    c.world.machine(leader).crash();
    const h = p.send({ topic: 'orders', value: 'lost' });
    c.runForMs(100);
    expect([h.status, h.offset]).toEqual(['ok', -1]);
    c.world.machine(leader).start();
    c.runForMs(15_000);
    for (const b of c.brokerIds) expect(c.logValues(b)).toEqual([]);
  });
});

describe('history', () => {
  it('records invoke, then ok with partition and offset, for each send', () => {
    const { c, p } = setup({ config: { 'linger.ms': 0 } });
    p.send({ topic: 'orders', key: 'k1', value: 'a' });
    c.runForMs(100);
    expect(c.sendHistory()).toEqual([
      { type: 'send', phase: 'invoke', value: 'a', key: 'k1', topic: 'orders' },
      { type: 'send', phase: 'ok', value: 'a', topic: 'orders', partition: 0, offset: 0 },
    ]);
  });

  it('refuses a record larger than max.request.size with Kafka’s message, as a definite failure', () => {
    const { c, p } = setup({ config: { 'max.request.size': 100 } });
    const h = p.send({ topic: 'orders', value: 'x'.repeat(40) });
    c.runForMs(10);
    expect([h.status, h.outcome, h.error]).toEqual([
      'error',
      'fail',
      'RecordTooLargeException: The message is 109 bytes when serialized which is larger than 100, which is the value of the max.request.size configuration.',
    ]);
    expect(c.sendHistory()[1]).toMatchObject({ phase: 'fail', value: 'x'.repeat(40) });
  });
});
