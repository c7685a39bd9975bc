import { describe, expect, it } from 'vitest';
import { TestCluster } from '../support/cluster.js';

describe('replication: a healthy cluster', () => {
  it('creates the topic, elects a leader, replicates acks=all writes to every replica', () => {
    const c = new TestCluster({ seed: 3 });
    c.runForMs(3_000);
    const state = c.partitionState();
    expect(state).toBeDefined();
    expect(state!.leader).toBeGreaterThan(0);
    expect([...state!.isr].sort()).toEqual([1, 2, 3]);
    c.producer().refreshMetadata();
    c.runForMs(100);
    const outcomes = Array.from({ length: 20 }, (_, i) => c.producer().send(0, `v${i}`));
    c.runForMs(2_000);
    expect(outcomes.map((o) => o.status)).toEqual(Array(20).fill('ok'));
    expect(outcomes.map((o) => o.offset)).toEqual([...Array(20).keys()]);
    for (const id of c.brokerIds) expect(c.logValues(id)).toEqual(outcomes.map((o) => o.value));
    const leader = c.broker(state!.leader).replicaManager.partition('orders-0')!;
    expect(leader.log.highWatermark).toBe(20);
  });
});
