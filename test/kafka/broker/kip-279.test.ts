import { describe, expect, it } from 'vitest';
import { TestCluster } from '../support/cluster.js';

/**
 * KIP-279: after fast back-to-back leader changes, a follower asks the leader where its last
 * epoch ends. Before KIP-279 a leader that never saw that epoch answered with the start of the
 * next epoch it knew (or nothing), which can lie past the point where the two logs diverge, so
 * the follower kept a divergent suffix. With KIP-279 the leader answers with the largest epoch it
 * knows at or below the one asked, and where it ends, and the follower truncates at the real
 * divergence.
 */
function fastLeaderChanges(epochEndOffsetLookup: boolean) {
  const c = new TestCluster({
    seed: 31,
    acks: 1,
    topic: { name: 'orders', partitions: 1, replicationFactor: 2, config: { 'unclean.leader.election.enable': true } },
    switches: { epochEndOffsetLookup },
  });
  const invariants = c.checkInvariants();
  c.runForMs(3_000);
  c.producer().refreshMetadata();
  c.runForMs(200);
  const a = c.partitionState()!.leader;
  const b = c.partitionState()!.replicas.find((x) => x !== a)!;
  c.producer().send(0, 'w0');
  c.producer().send(0, 'w1');
  c.runForMs(1_000);
  // B stops hearing from A; A takes w2 alone (acks=1), then is cut off entirely.
  c.world.network.blockOneWay(b, a);
  c.runForMs(600); // let B's parked fetch return
  c.producer().send(0, 'w2');
  c.runForMs(100);
  c.world.network.heal();
  c.world.network.isolate(a);
  c.runForMs(12_000); // A fenced; B leads epoch 1
  c.producer().refreshMetadata();
  c.runForMs(200);
  const w2b = c.producer().send(0, 'w2-b');
  c.runForMs(6_000); // B's HW checkpoint covers w2-b
  // Leadership swings straight back: A returns as B dies, and A is elected uncleanly.
  c.world.network.heal();
  c.world.machine(b).crash();
  c.runForMs(15_000);
  const leaderAfter = c.partitionState()!.leader;
  c.world.machine(b).start();
  c.runForMs(30_000);
  return { c, invariants, a, b, w2b, leaderAfter };
}

describe('KIP-279: fast back-to-back leader changes', () => {
  it('without the epoch lookup fix, the follower keeps a divergent record below the high watermark', () => {
    const r = fastLeaderChanges(false);
    expect(r.w2b.status).toBe('ok');
    expect(r.leaderAfter).toBe(r.a);
    expect(r.c.logValues(r.a)).toEqual(['w0', 'w1', 'w2']);
    expect(r.c.logValues(r.b)).toEqual(['w0', 'w1', 'w2-b']);
    expect(r.invariants.violations.map((v) => v.check)).toContain('log-matching');
  });

  it('with KIP-279 (today), the follower truncates at the divergence and the logs agree', () => {
    const r = fastLeaderChanges(true);
    expect(r.leaderAfter).toBe(r.a);
    expect(r.c.logValues(r.b)).toEqual(r.c.logValues(r.a));
    expect(r.c.logValues(r.a)).toEqual(['w0', 'w1', 'w2']);
    expect(r.invariants.violations.filter((v) => v.check === 'log-matching')).toEqual([]);
  });
});
