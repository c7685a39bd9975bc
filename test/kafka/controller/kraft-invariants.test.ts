import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TestCluster } from '../support/cluster.js';
import type { Broker } from '../../../src/kafka/broker/broker.js';
import type { Controller } from '../../../src/kafka/controller/controller.js';
import type { KafkaRaftClient } from '../../../src/kafka/raft/kafka-raft-client.js';
import { METADATA_LOG_FILE } from '../../../src/kafka/raft/raft-log.js';
import type { RaftRecordBatch } from '../../../src/kafka/raft/raft-messages.js';
import { QUORUM_STATE_FILE, readElectionState } from '../../../src/kafka/raft/quorum-state.js';
import type { ElectionState } from '../../../src/kafka/raft/epoch-state.js';
import { RaftInvariants, type QuorumView } from '../raft/raft-invariants.js';

/*
 * The KRaft invariants over a whole Kafka cluster: three controllers vote, and three brokers
 * follow the metadata log as observers (fetching from the active controller). Checked after
 * every event: single-leader-per-epoch, monotonic-epoch, monotonic-high-watermark,
 * majority-reached-high-watermark, consistent-committed-metadata, and metadata-log-matching,
 * which here says that each broker's copy of the log below its high watermark is a prefix of
 * the active controller's.
 */

function quorumView(c: TestCluster): QuorumView {
  return {
    nodeIds: [...c.controllerIds, ...c.brokerIds],
    voterIds: c.controllerIds,
    persistedElection(id): ElectionState | undefined {
      const chunk = c.world.machine(id).disk.durableChunks(QUORUM_STATE_FILE)[0];
      return chunk === undefined ? undefined : readElectionState(chunk.payload);
    },
    durableLogEndOffset(id): number {
      let end = 0;
      for (const chunk of c.world.machine(id).disk.durableChunks(METADATA_LOG_FILE)) {
        const batch = chunk.payload as RaftRecordBatch;
        if (chunk.torn === true || chunk.corrupt === true || batch.baseOffset !== end) break;
        end += batch.records.length;
      }
      return end;
    },
    runningClient(id): KafkaRaftClient | undefined {
      const process = c.world.machine(id).process;
      if (process === undefined) return undefined;
      return c.controllerIds.includes(id) ? (process as Controller).raftClient : (process as Broker).metadataRaftClient;
    },
  };
}

type Fault = { atMs: number; kind: 'crash-controller' | 'power-loss-controller' | 'crash-broker' | 'isolate-broker' | 'isolate-controller'; index: number; forMs: number };

const faultArb: fc.Arbitrary<Fault> = fc.record({
  atMs: fc.integer({ min: 3_000, max: 30_000 }),
  kind: fc.constantFrom('crash-controller', 'power-loss-controller', 'crash-broker', 'isolate-broker', 'isolate-controller'),
  index: fc.integer({ min: 0, max: 2 }),
  forMs: fc.integer({ min: 100, max: 12_000 }),
});

function runWithFaults(seed: number, faults: Fault[]): { inv: RaftInvariants; c: TestCluster } {
  const c = new TestCluster({ seed, brokers: 3, controllers: 3, topic: { name: 'orders', partitions: 3, replicationFactor: 3 } });
  const inv = new RaftInvariants(quorumView(c), () => c.world.nowUs);
  const steps: { atMs: number; run: () => void }[] = [];
  for (const f of faults) {
    const id = f.kind.endsWith('controller') ? c.controllerIds[f.index] : c.brokerIds[f.index];
    const m = () => c.world.machine(id);
    if (f.kind === 'crash-controller' || f.kind === 'crash-broker') steps.push({ atMs: f.atMs, run: () => m().state !== 'stopped' && m().kill(f.forMs * 1000) });
    else if (f.kind === 'power-loss-controller') steps.push({ atMs: f.atMs, run: () => m().powered && m().powerCycle(f.forMs * 1000) });
    else {
      steps.push({ atMs: f.atMs, run: () => c.world.network.isolate(id) });
      steps.push({ atMs: f.atMs + f.forMs, run: () => c.world.network.rejoin(id) });
    }
  }
  steps.sort((a, b) => a.atMs - b.atMs);
  const verify = () => {
    inv.verify();
    return false;
  };
  for (const s of steps) {
    c.world.runUntil({ timeUs: s.atMs * 1000, until: verify });
    s.run();
  }
  c.world.network.heal();
  c.world.runUntil({ timeUs: 60_000_000, until: verify });
  inv.validateAll();
  return { inv, c };
}

describe('KRaft invariants with brokers as metadata-log observers', () => {
  it('hold after every event over random controller and broker faults', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.array(faultArb, { maxLength: 5 }), (seed, faults) => {
        const { inv, c } = runWithFaults(seed, faults);
        expect(inv.violations).toEqual([]);
        expect(inv.checks).toBeGreaterThan(3_000);
        // Once healed, every broker has caught up with the controllers' committed metadata.
        const active = c.controller();
        for (const id of c.brokerIds) {
          const b = c.broker(id);
          if (b === undefined || !active.isActive) continue;
          expect(b.metadataImage.offset, `broker ${id}`).toBe(active.image.offset);
        }
      }),
      { numRuns: 25, seed: 4 },
    );
  });

  it('a broker learns of a change by fetching it: after the controller commits, and each broker at its own moment', () => {
    const c = new TestCluster({ seed: 3, brokers: 3, controllers: 3 });
    c.runForMs(5_000);
    const active = c.controller();
    expect(active.isActive).toBe(true);
    for (const id of c.brokerIds) expect(c.broker(id).metadataImage.offset).toBe(active.image.offset);
    expect(c.broker(1).metadataQuorum?.leaderId).toBe(active.quorum.leaderId);
    // Broker 3 dies; the controller fences it after broker.session.timeout.ms and commits that.
    c.world.machine(3).crash();
    const fenced = c.runUntilRecorded((e) => e.type === 'metadata-commit' && active.image.brokers.get(3)?.fenced === true, 20_000);
    expect(fenced).toBeDefined();
    const offset = fenced!.offset as number;
    const commitUs = c.world.nowUs;
    // At the commit, no broker has it yet; each gets it with its own next fetch.
    for (const id of [1, 2]) expect(c.broker(id).metadataImage.offset).toBeLessThan(offset);
    c.runForMs(2_000);
    const seenAt = [1, 2].map((id) => c.world.history.find((h) => h.node === id && h.entry.type === 'broker-metadata' && (h.entry.offset as number) >= offset)?.timeUs);
    for (const t of seenAt) expect(t).toBeGreaterThan(commitUs);
    expect(seenAt[0]).not.toBe(seenAt[1]);
    for (const id of [1, 2]) expect(c.broker(id).metadataImage.brokers.get(3)?.fenced).toBe(true);
  });

  it('the check can fail: a broker whose log is rewritten below its high watermark breaks metadata-log-matching', () => {
    const c = new TestCluster({ seed: 3, brokers: 3, controllers: 3 });
    c.runForMs(5_000);
    const view = quorumView(c);
    const broker = view.runningClient(1)!;
    const entries = broker.entries(0, broker.highWatermark ?? 0);
    expect(entries.length).toBeGreaterThan(3);
    const forged = { ...entries[2], epoch: entries[2].epoch + 7 };
    const forge = (t: KafkaRaftClient, k: string | symbol) => {
      if (k === 'entryAt') return (offset: number) => (offset === 2 ? forged : t.entryAt(offset));
      if (k === 'entries') return (from: number, to: number) => t.entries(from, to).map((e, i) => (from + i === 2 ? forged : e));
      return Reflect.get(t, k);
    };
    const forgedBroker = new Proxy(broker, { get: forge });
    const fake: QuorumView = { ...view, runningClient: (id) => (id === 1 ? forgedBroker : view.runningClient(id)) };
    const inv = new RaftInvariants(fake, () => c.world.nowUs, false);
    inv.verify();
    expect(new Set(inv.violations.map((v) => v.invariant))).toEqual(new Set(['metadata-log-matching', 'consistent-committed-metadata']));
    expect(inv.violations.find((v) => v.invariant === 'metadata-log-matching')?.message).toMatch(/node 1 and leader \d+ differ at committed offset 2/);
  });
});
