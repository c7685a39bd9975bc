import { describe, expect, it } from 'vitest';
import { CONTROLLER_ID, TestCluster } from '../support/cluster.js';
import type { Controller } from '../../../src/kafka/controller/controller.js';

describe('a three-controller KRaft quorum', () => {
  it('the controller fails over: a new active controller keeps the cluster running and acts on broker failures', () => {
    const c = new TestCluster({ seed: 4, controllers: 3 });
    c.runForMs(5_000);
    const first = c.controller();
    expect(first.isActive).toBe(true);
    const firstId = c.controllerIds.find((id) => c.world.machine(id).process === first)!;
    const leaderBefore = c.partitionState()!.leader;
    expect(leaderBefore).toBeGreaterThan(0);
    c.producer().refreshMetadata();
    c.runForMs(200);
    const before = Array.from({ length: 5 }, (_, i) => c.producer().send(0, `a${i}`));
    c.runForMs(1_000);
    expect(before.map((o) => o.status)).toEqual(Array(5).fill('ok'));

    c.world.machine(firstId).crash();
    c.runForMs(10_000);
    const second = c.controller();
    expect(second.isActive).toBe(true);
    expect(second).not.toBe(first);
    expect(second.quorum.epoch).toBeGreaterThan(first.quorum.epoch);
    // The new controller knows everything the old one committed.
    expect(c.partitionState()!.leader).toBe(leaderBefore);

    // It acts: the partition leader dies and is replaced.
    c.world.machine(leaderBefore).crash();
    c.runForMs(15_000);
    const leaderAfter = c.partitionState()!.leader;
    expect(leaderAfter).toBeGreaterThan(0);
    expect(leaderAfter).not.toBe(leaderBefore);
    c.producer().refreshMetadata();
    c.runForMs(200);
    const after = c.producer().send(0, 'b0');
    c.runForMs(1_000);
    expect(after.status).toBe('ok');
    expect(c.lostWrites()).toEqual([]);
  });

  it('a quorum that lost its majority freezes metadata while existing leaders keep serving', () => {
    const c = new TestCluster({ seed: 6, controllers: 3 });
    c.runForMs(5_000);
    c.producer().refreshMetadata();
    c.runForMs(200);
    const state = c.partitionState()!;
    for (const id of c.controllerIds.slice(0, 2)) c.world.machine(id).crash();
    c.runForMs(3_000);
    // No controller is active any more...
    const survivors = c.controllerIds.slice(2).map((id) => c.world.machine(id).process as unknown as Controller);
    expect(survivors.every((s) => !s.isActive)).toBe(true);
    // ...but the partition leader still takes writes (its ISR does not need the controller).
    const w = c.producer().send(0, 'during-outage');
    c.runForMs(1_000);
    expect(w.status).toBe('ok');
    // A broker failure now goes unhandled: the dead leader is not replaced.
    c.world.machine(state.leader).crash();
    c.runForMs(20_000);
    const frozen = (c.world.machine(CONTROLLER_ID + 2).process as unknown as Controller).image.partitions.get('orders-0')!;
    expect(frozen.leader).toBe(state.leader);
  });
});
