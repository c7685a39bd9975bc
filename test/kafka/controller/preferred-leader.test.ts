import { describe, expect, it } from 'vitest';
import { TestCluster } from '../support/cluster.js';

/*
 * auto.leader.rebalance.enable (QuorumController's electPreferred task,
 * ReplicationControlManager.maybeBalancePartitionLeaders): after the preferred replica (the
 * first in the replica list) comes back into the ISR, the next check moves leadership back to it.
 */

function failAndReturnPreferred(rebalance: boolean) {
  const c = new TestCluster({
    seed: 2,
    brokers: 3,
    topic: { name: 'orders', partitions: 1, replicationFactor: 3 },
    controllerConfig: { 'auto.leader.rebalance.enable': rebalance, 'leader.imbalance.check.interval.seconds': 30 },
  });
  c.runForMs(5_000);
  const preferred = c.partitionState()!.replicas[0];
  expect(c.partitionState()!.leader).toBe(preferred);
  c.world.machine(preferred).kill(1_000_000);
  c.runForMs(12_000);
  const interim = c.partitionState()!;
  expect(interim.leader).not.toBe(preferred);
  c.runForMs(10_000); // back, caught up, in the ISR again
  expect(c.partitionState()!.isr).toContain(preferred);
  const before = c.partitionState()!.leader;
  c.runForMs(40_000); // past the next imbalance check
  return { c, preferred, interim, before, after: c.partitionState()! };
}

describe('preferred leader election (auto.leader.rebalance.enable)', () => {
  it('moves leadership back to the preferred replica at the next check, one leader epoch later', () => {
    const { c, preferred, before, interim, after } = failAndReturnPreferred(true);
    expect(before).toBe(interim.leader);
    expect(after.leader).toBe(preferred);
    expect(after.leaderEpoch).toBe(interim.leaderEpoch + 1);
    const elections = c.world.history.filter((h) => h.entry.type === 'preferred-leader-election');
    expect(elections.map((h) => [h.entry.partition, h.entry.leader, h.entry.previousLeader])).toEqual([['orders-0', preferred, interim.leader]]);
  });

  it('with auto.leader.rebalance.enable=false the interim leader keeps the partition', () => {
    const { c, interim, after } = failAndReturnPreferred(false);
    expect(after.leader).toBe(interim.leader);
    expect(after.leaderEpoch).toBe(interim.leaderEpoch);
    expect(c.world.history.some((h) => h.entry.type === 'preferred-leader-election')).toBe(false);
  });
});
