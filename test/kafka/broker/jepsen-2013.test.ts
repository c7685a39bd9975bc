import { describe, expect, it } from 'vitest';
import { TestCluster } from '../support/cluster.js';

/**
 * Jepsen 2013 ("Call me maybe: Kafka"): the followers fall out of the ISR, the leader alone
 * acknowledges acks=all writes, then the leader dies and a stale follower takes over.
 */
function jepsen2013(options: { minIsr: number; unclean: boolean; seed?: number }) {
  const c = new TestCluster({
    seed: options.seed ?? 5,
    topic: { name: 'orders', partitions: 1, replicationFactor: 3, config: { 'min.insync.replicas': options.minIsr, 'unclean.leader.election.enable': options.unclean } },
  });
  const invariants = c.checkInvariants();
  c.runForMs(3_000);
  c.producer().refreshMetadata();
  c.runForMs(200);
  const before = Array.from({ length: 5 }, (_, i) => c.producer().send(0, `before-${i}`));
  c.runForMs(500);
  const leader = c.partitionState()!.leader;
  const followers = c.brokerIds.filter((b) => b !== leader);
  // The followers cannot reach the leader; everyone still reaches the controller.
  c.world.network.partition([[leader], followers]);
  // Writes keep coming: without new data a silent follower still counts as caught up
  // (Replica.isCaughtUp: its LEO equals the leader's), so the ISR would never shrink.
  const stalled = [];
  for (let i = 0; i < 50; i++) {
    stalled.push(c.producer().send(0, `stalled-${i}`));
    c.runForMs(1_000);
  }
  const isrAfterShrink = [...c.partitionState()!.isr];
  const during = Array.from({ length: 5 }, (_, i) => c.producer().send(0, `during-${i}`));
  c.runForMs(1_000);
  c.world.machine(leader).crash();
  c.world.network.heal();
  c.runForMs(15_000);
  const electedAfterCrash = c.partitionState()!.leader;
  c.world.machine(leader).start();
  c.runForMs(20_000);
  return { c, invariants, leader, isrAfterShrink, before, stalled, during, electedAfterCrash };
}

describe('Jepsen 2013: the ISR shrinks to the leader, which then dies', () => {
  it('with min.insync.replicas=1 and unclean election, acknowledged writes are lost', () => {
    const r = jepsen2013({ minIsr: 1, unclean: true });
    expect(r.isrAfterShrink).toEqual([r.leader]);
    expect(r.before.every((o) => o.status === 'ok')).toBe(true);
    expect(r.during.map((o) => o.status)).toEqual(Array(5).fill('ok')); // acked by the leader alone
    expect(r.electedAfterCrash).not.toBe(r.leader); // a stale follower, elected uncleanly
    const ackedAfterPartition = [...r.stalled, ...r.during].filter((o) => o.status === 'ok').map((o) => o.value);
    expect(ackedAfterPartition.length).toBeGreaterThan(20);
    expect(r.c.lostWrites().sort()).toEqual(ackedAfterPartition.sort());
    // Every replica now agrees on the new history: the old leader truncated its acked tail.
    for (const id of r.c.brokerIds) expect(r.c.logValues(id)).toEqual(r.before.map((o) => o.value));
  });

  it('with min.insync.replicas=2 and unclean election off, writes are refused and nothing acknowledged is lost', () => {
    const r = jepsen2013({ minIsr: 2, unclean: false });
    expect(r.isrAfterShrink).toEqual([r.leader]);
    expect(r.during.map((o) => o.error)).toEqual(Array(5).fill('NOT_ENOUGH_REPLICAS'));
    // Writes caught in the shrink waited for a HW that could not move below min ISR.
    expect(r.stalled.filter((o) => o.status === 'ok')).toEqual([]);
    expect(r.c.lostWrites()).toEqual([]);
    expect(r.invariants.violations).toEqual([]);
  });
});
