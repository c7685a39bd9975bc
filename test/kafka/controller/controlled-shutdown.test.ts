import { describe, expect, it } from 'vitest';
import { TestCluster } from '../support/cluster.js';

describe('controlled shutdown (SIGTERM)', () => {
  it('moves leadership away at once, exits cleanly, loses nothing, and the restart counts as clean', () => {
    const c = new TestCluster({ seed: 8, topic: { name: 'orders', partitions: 1, replicationFactor: 3, config: { 'min.insync.replicas': 2 } } });
    const invariants = c.checkInvariants();
    c.runForMs(3_000);
    c.producer().refreshMetadata();
    c.runForMs(200);
    const before = Array.from({ length: 10 }, (_, i) => c.producer().send(0, `a${i}`));
    c.runForMs(500);
    const leader = c.partitionState()!.leader;
    const shutdownAtUs = c.world.nowUs;
    c.world.machine(leader).terminate();
    const moved = c.runUntilRecorded((e) => e.type === 'become-leader' && e.broker !== leader, 5_000);
    expect(c.world.nowUs - shutdownAtUs).toBeLessThan(50_000); // leadership moves within milliseconds
    expect(moved).toBeDefined();
    const stopped = c.runUntilRecorded((e) => e.type === 'broker-stopped' && e.broker === leader, 5_000);
    expect(stopped).toMatchObject({ clean: true });
    // Far sooner than a session timeout (9 s): the controller moved leadership on request, and
    // let the broker go at its next heartbeat (broker.heartbeat.interval.ms = 2 s).
    expect(c.world.nowUs - shutdownAtUs).toBeLessThan(2_500_000);
    expect(c.world.machine(leader).state).toBe('stopped');
    const state = c.partitionState()!;
    expect(state.leader).not.toBe(leader);
    expect(state.isr).not.toContain(leader);
    c.producer().refreshMetadata();
    c.runForMs(200);
    const after = Array.from({ length: 10 }, (_, i) => c.producer().send(0, `b${i}`));
    c.runForMs(1_000);
    expect([...before, ...after].map((o) => o.status)).toEqual(Array(20).fill('ok'));
    // Back again: it registers with the epoch its clean-shutdown file kept, and rejoins the ISR.
    c.world.machine(leader).start();
    c.runForMs(5_000);
    expect(c.partitionState()!.isr).toContain(leader);
    expect(c.lostWrites()).toEqual([]);
    expect(invariants.violations).toEqual([]);
    const starts = c.world.history.filter((h) => h.entry.type === 'broker-registered' && h.entry.broker === leader);
    expect(starts.length).toBe(2);
  });
});
