import { describe, expect, it } from 'vitest';
import { TestCluster } from '../support/cluster.js';

/**
 * KIP-101 scenario 1: a follower truncates its log to its high watermark when it becomes a
 * follower, but a follower's HW lags the leader's by a fetch round, so it cuts records the leader
 * already acknowledged. If the new leader then fails before the follower fetches them again, the
 * follower is elected and the acknowledged record is gone. With leader epochs the follower
 * truncates only where its log diverges from the leader's, which here is nowhere.
 *
 * (In KRaft a restarted broker leaves the ISR when it registers again, so the truncation that
 * matters is the one on becoming a follower of the new leader: the same mechanism, KIP-101's
 * "truncate to HW" in makeFollower.)
 */
function scenario1(leaderEpochTruncation: boolean) {
  const c = new TestCluster({ seed: 11, acks: -1, switches: { leaderEpochTruncation } });
  const invariants = c.checkInvariants();
  c.runForMs(3_000);
  c.producer().refreshMetadata();
  c.runForMs(200);
  const first = c.producer().send(0, 'm0');
  c.runForMs(1_000);
  const a = c.partitionState()!.leader;
  // m1 is fetched by both followers and acknowledged; the leader dies before its next fetch
  // response could carry the new HW to them.
  const m1 = c.producer().send(0, 'm1');
  c.world.runUntil({ timeUs: c.world.nowUs + 1_000_000, until: () => m1.status === 'ok' });
  c.world.machine(a).crash();
  const followerHws = c.brokerIds.filter((b) => b !== a).map((b) => c.broker(b).replicaManager.partition('orders-0')!.log.highWatermark);
  // The controller fences the dead leader and elects B; C becomes B's follower. B dies at once.
  const becameFollower = c.runUntilRecorded((e) => e.type === 'become-follower' && e.leaderEpoch === 1);
  const b = c.partitionState()!.leader;
  c.world.machine(b).crash();
  c.runForMs(15_000);
  const finalLeader = c.partitionState()!.leader;
  return { c, invariants, a, b, first, m1, followerHws, becameFollower, finalLeader };
}

describe('KIP-101 scenario 1: a follower truncates to a stale high watermark, then the leader fails', () => {
  it('without leader-epoch truncation, the acknowledged record is lost', () => {
    const r = scenario1(false);
    expect(r.first.status).toBe('ok');
    expect(r.m1.status).toBe('ok');
    expect(r.followerHws).toEqual([1, 1]); // both followers had m1 but not yet its HW
    expect(r.becameFollower).toBeDefined();
    expect(r.finalLeader).not.toBe(r.a);
    expect(r.finalLeader).not.toBe(r.b);
    expect(r.c.lostWrites()).toEqual(['m1']);
    expect(r.invariants.violations.map((v) => v.check)).toContain('leader-completeness');
  });

  it('with leader-epoch truncation (today), nothing acknowledged is lost', () => {
    const r = scenario1(true);
    expect(r.m1.status).toBe('ok');
    expect(r.followerHws).toEqual([1, 1]);
    expect(r.finalLeader).not.toBe(r.b);
    expect(r.c.lostWrites()).toEqual([]);
    expect(r.invariants.violations).toEqual([]);
  });
});

/**
 * KIP-101 scenario 2: both replicas lose power. The old leader had fsync'd a record the follower
 * had only in its page cache; the follower comes back first, is elected, and writes a different
 * record at that offset. When the old leader returns it truncates to its high watermark, which
 * is past the divergence, so the two logs disagree below the HW for good. With leader epochs it
 * asks where its epoch ends on the new leader and truncates there.
 */
function scenario2(leaderEpochTruncation: boolean) {
  const c = new TestCluster({
    seed: 21,
    acks: 1,
    topic: { name: 'orders', partitions: 1, replicationFactor: 2 },
    switches: { leaderEpochTruncation },
  });
  const invariants = c.checkInvariants();
  c.runForMs(3_000);
  c.producer().refreshMetadata();
  c.runForMs(200);
  const a = c.partitionState()!.leader;
  const b = c.brokerIds.find((x) => x !== a && c.partitionState()!.replicas.includes(x))!;
  // A fsyncs what it writes; B, like Kafka by default, does not.
  c.world.machine(a).disk.setSlowFactor(1);
  c.producer().send(0, 'm0');
  c.runForMs(40_000); // m0 is written back on both
  const leaderLog = c.broker(a).replicaManager.partition('orders-0')!.log;
  c.producer().send(0, 'm1');
  c.runForMs(6_000); // B fetched m1; A's HW checkpoint (every 5 s) now says 2
  leaderLog.flush(); // the old leader's m1 reaches its platter; B's is only in its page cache
  c.runForMs(100);
  c.world.machine(a).powerOff();
  c.world.machine(b).powerOff();
  c.runForMs(20_000);
  c.world.machine(b).powerOn();
  c.runForMs(15_000);
  const newLeader = c.partitionState()!.leader;
  c.producer().refreshMetadata();
  c.runForMs(200);
  const m2 = c.producer().send(0, 'm2');
  c.runForMs(1_000);
  c.world.machine(a).powerOn();
  c.runForMs(30_000);
  return { c, invariants, a, b, newLeader, m2 };
}

describe('KIP-101 scenario 2: both replicas lose power, then their logs diverge', () => {
  it('without leader-epoch truncation, the replicas disagree below the high watermark', () => {
    const r = scenario2(false);
    expect(r.newLeader).toBe(r.b);
    expect(r.m2.status).toBe('ok');
    expect(r.c.logValues(r.a)).toEqual(['m0', 'm1']);
    expect(r.c.logValues(r.b)).toEqual(['m0', 'm2']);
    expect(r.invariants.violations.map((v) => v.check)).toContain('log-matching');
  });

  it('with leader-epoch truncation (today), the old leader truncates to the new leader\'s log', () => {
    const r = scenario2(true);
    expect(r.newLeader).toBe(r.b);
    expect(r.c.logValues(r.a)).toEqual(['m0', 'm2']);
    expect(r.c.logValues(r.b)).toEqual(['m0', 'm2']);
    expect(r.invariants.violations.filter((v) => v.check === 'log-matching')).toEqual([]);
  });
});
