import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Simulator } from '../../src/engine/simulator.js';
import { SimulationError } from '../../src/engine/errors.js';
import type { LatencySpec } from '../../src/world/latency.js';
import { Network, type LinkConfig, type NodePlacement } from '../../src/world/network.js';
import type { Message, NodeId } from '../../src/world/node.js';

interface TestMessage extends Message {
  readonly id: number;
}

interface Delivery {
  from: NodeId;
  to: NodeId;
  id: number;
  atUs: number;
}

interface Harness {
  sim: Simulator;
  net: Network;
  deliveries: Delivery[];
  /** Sends a fresh message and returns its id. */
  send(from: NodeId, to: NodeId, sizeBytes?: number): number;
}

/** A simulator and a network whose deliveries are logged, with nodes 0..count-1. */
function harness(seed: number | string, count: number, defaults?: Partial<LinkConfig>, placements: NodePlacement[] = []): Harness {
  const sim = new Simulator({ seed });
  const deliveries: Delivery[] = [];
  const net = new Network(sim, sim.rng.fork('net'), (from, to, message) => {
    deliveries.push({ from, to, id: (message as TestMessage).id, atUs: sim.nowUs });
  }, defaults);
  for (let i = 0; i < count; i++) net.addNode(i, placements[i]);
  let nextId = 0;
  const send = (from: NodeId, to: NodeId, sizeBytes?: number): number => {
    const id = nextId++;
    const message: TestMessage = sizeBytes === undefined ? { type: 'test', id } : { type: 'test', id, sizeBytes };
    net.send(from, to, message);
    return id;
  };
  return { sim, net, deliveries, send };
}

function expectConservation(net: Network): void {
  const s = net.stats();
  expect(s.sent + s.duplicated).toBe(s.delivered + s.dropped + s.blocked + s.held);
}

/** Every distribution the latency model knows, with parameters wide enough to reorder. */
const latencyArb: fc.Arbitrary<LatencySpec> = fc.oneof(
  fc.double({ min: 0, max: 5, noNaN: true }).map((ms) => ({ distribution: 'constant' as const, ms })),
  fc.tuple(fc.double({ min: 0, max: 5, noNaN: true }), fc.double({ min: 0, max: 20, noNaN: true })).map(([minMs, spanMs]) => ({
    distribution: 'uniform' as const,
    minMs,
    maxMs: minMs + spanMs,
  })),
  fc.double({ min: 0.01, max: 10, noNaN: true }).map((meanMs) => ({ distribution: 'exponential' as const, meanMs })),
  fc.double({ min: 0, max: 10, noNaN: true }).map((meanMs) => ({ distribution: 'normal' as const, meanMs, stdDevMs: 5 })),
  fc.double({ min: 0.01, max: 5, noNaN: true }).map((medianMs) => ({ distribution: 'lognormal' as const, medianMs, sigma: 1.5 })),
  fc.tuple(fc.double({ min: 0.01, max: 2, noNaN: true }), fc.double({ min: 0.5, max: 3, noNaN: true })).map(([scaleMs, shape]) => ({
    distribution: 'pareto' as const,
    scaleMs,
    shape,
  })),
);

type TrafficOp =
  | { op: 'send'; from: number; to: number; gapUs: number; sizeBytes: number }
  | { op: 'setLink'; from: number; to: number; latency: LatencySpec };

const NODES = 4;
const nodeArb = fc.integer({ min: 0, max: NODES - 1 });

const trafficArb: fc.Arbitrary<TrafficOp[]> = fc.array(
  fc.oneof(
    {
      weight: 10,
      arbitrary: fc.record({
        op: fc.constant('send' as const),
        from: nodeArb,
        to: nodeArb,
        gapUs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3_000 })),
        sizeBytes: fc.integer({ min: 0, max: 5_000 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('setLink' as const), from: nodeArb, to: nodeArb, latency: latencyArb }) },
  ),
  { maxLength: 120 },
);

/** Plays `ops` against a network, advancing the clock by each send's gap. Returns the sent ids per link. */
function playTraffic(h: Harness, ops: TrafficOp[]): Map<string, number[]> {
  const sentByLink = new Map<string, number[]>();
  for (const o of ops) {
    if (o.op === 'setLink') {
      if (o.from !== o.to) h.net.setLink(o.from, o.to, { latency: o.latency });
      continue;
    }
    h.sim.runUntil(h.sim.nowUs + o.gapUs);
    const id = h.send(o.from, o.to, o.sizeBytes);
    const key = `${o.from}>${o.to}`;
    sentByLink.set(key, [...(sentByLink.get(key) ?? []), id]);
  }
  h.sim.runUntil({});
  return sentByLink;
}

function deliveredByLink(deliveries: Delivery[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const d of deliveries) {
    const key = `${d.from}>${d.to}`;
    out.set(key, [...(out.get(key) ?? []), d.id]);
  }
  return out;
}

describe('FIFO per directed link, as TCP gives', () => {
  it('delivers every message of a link in send order, whatever the latency distribution, bandwidth and config changes', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        latencyArb,
        fc.constantFrom(Infinity, 1_000_000, 50_000_000),
        trafficArb,
        (seed, latency, bandwidthBytesPerSec, ops) => {
          const h = harness(seed, NODES, { latency, bandwidthBytesPerSec });
          const sent = playTraffic(h, ops);
          expect(deliveredByLink(h.deliveries)).toEqual(sent);
          expectConservation(h.net);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reorders messages on a link with reorder: true and a wide latency distribution', () => {
    const run = (reorder: boolean): number[] => {
      const h = harness(3, 2, { latency: { distribution: 'exponential', meanMs: 10 }, reorder });
      for (let i = 0; i < 50; i++) h.send(0, 1);
      h.sim.runUntil({});
      return h.deliveries.map((d) => d.id);
    };
    const inOrder = Array.from({ length: 50 }, (_, i) => i);
    expect(run(true)).not.toEqual(inOrder);
    expect([...run(true)].sort((a, b) => a - b)).toEqual(inOrder);
    expect(run(false)).toEqual(inOrder);
  });

  it('holds a fast message behind a slow one sent earlier, arriving at the same instant', () => {
    const h = harness(1, 2, { latency: { distribution: 'constant', ms: 10 } });
    h.send(0, 1);
    h.net.setLink(0, 1, { latency: { distribution: 'constant', ms: 1 } });
    h.sim.runUntil(2_000);
    h.send(0, 1);
    h.sim.runUntil({});
    expect(h.deliveries.map((d) => [d.id, d.atUs])).toEqual([
      [0, 10_000],
      [1, 10_000],
    ]);
  });

  it('delivers self-sends at once, even when the node is isolated', () => {
    const h = harness(1, 2, { latency: { distribution: 'constant', ms: 10 }, lossRate: 1 });
    h.net.isolate(0);
    h.sim.runUntil(500);
    h.send(0, 0);
    h.send(0, 0);
    h.sim.runUntil({});
    expect(h.deliveries).toEqual([
      { from: 0, to: 0, id: 0, atUs: 500 },
      { from: 0, to: 0, id: 1, atUs: 500 },
    ]);
    expect(h.net.canReach(0, 0)).toBe(true);
  });
});

type Fault =
  | { kind: 'partition'; groupOf: number[] }
  | { kind: 'isolate'; node: number }
  | { kind: 'oneWay'; from: number; to: number }
  | { kind: 'bridge'; sideOf: number[]; bridgeNode: number };

const PARTITION_NODES = 5;
const pNodeArb = fc.integer({ min: 0, max: PARTITION_NODES - 1 });

/** Group per node: -1 means named in no group. */
const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({ kind: fc.constant('partition' as const), groupOf: fc.array(fc.integer({ min: -1, max: 2 }), { minLength: PARTITION_NODES, maxLength: PARTITION_NODES }) }),
  fc.record({ kind: fc.constant('isolate' as const), node: pNodeArb }),
  fc.record({ kind: fc.constant('oneWay' as const), from: pNodeArb, to: pNodeArb }).filter((f) => f.from !== f.to),
  fc.record({
    kind: fc.constant('bridge' as const),
    sideOf: fc.array(fc.integer({ min: -1, max: 1 }), { minLength: PARTITION_NODES, maxLength: PARTITION_NODES }),
    bridgeNode: pNodeArb,
  }),
);

/** The reference model: whether fault `f` alone blocks `from → to` (from ≠ to). */
function faultBlocks(f: Fault, from: number, to: number): boolean {
  switch (f.kind) {
    case 'partition':
      return f.groupOf[from] >= 0 && f.groupOf[to] >= 0 && f.groupOf[from] !== f.groupOf[to];
    case 'isolate':
      return from === f.node || to === f.node;
    case 'oneWay':
      return from === f.from && to === f.to;
    case 'bridge': {
      if (from === f.bridgeNode || to === f.bridgeNode) return false;
      return f.sideOf[from] >= 0 && f.sideOf[to] >= 0 && f.sideOf[from] !== f.sideOf[to];
    }
  }
}

function applyFault(net: Network, f: Fault): void {
  const members = (of: number[], g: number) => of.flatMap((x, node) => (x === g ? [node] : []));
  switch (f.kind) {
    case 'partition':
      return net.partition([members(f.groupOf, 0), members(f.groupOf, 1), members(f.groupOf, 2)]);
    case 'isolate':
      return net.isolate(f.node);
    case 'oneWay':
      return net.blockOneWay(f.from, f.to);
    case 'bridge':
      return net.bridge(members(f.sideOf, 0), members(f.sideOf, 1), f.bridgeNode);
  }
}

function sendAllPairs(h: Harness): Map<number, [number, number]> {
  const pairOf = new Map<number, [number, number]>();
  for (let from = 0; from < PARTITION_NODES; from++) {
    for (let to = 0; to < PARTITION_NODES; to++) if (from !== to) pairOf.set(h.send(from, to), [from, to]);
  }
  return pairOf;
}

describe('partitions block exactly what they name', () => {
  it('holds every message between a blocked pair, delivers every other one, and delivers the held ones in order after heal()', () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(faultArb, { minLength: 1, maxLength: 4 }), fc.boolean(), (seed, faults, inFlight) => {
        const h = harness(seed, PARTITION_NODES, { latency: { distribution: 'exponential', meanMs: 2 } });
        const blocked = (from: number, to: number) => faults.some((f) => faultBlocks(f, from, to));
        // Faults either start before the sends or while every message is still in flight.
        if (!inFlight) for (const f of faults) applyFault(h.net, f);
        const pairOf = sendAllPairs(h);
        if (inFlight) for (const f of faults) applyFault(h.net, f);
        h.sim.runUntil({});
        const delivered = new Set(h.deliveries.map((d) => d.id));
        for (const [id, [from, to]] of pairOf) {
          expect(h.net.canReach(from, to)).toBe(!blocked(from, to));
          expect(delivered.has(id), `${from}→${to}`).toBe(!blocked(from, to));
        }
        const heldCount = [...pairOf.values()].filter(([from, to]) => blocked(from, to)).length;
        expect(h.net.stats()).toMatchObject({ held: heldCount, blocked: 0 });

        // Sent after the held ones, on the same connections, before the heal: they queue behind.
        const behind = sendAllPairs(h);
        h.net.heal();
        h.deliveries.length = 0;
        const healed = sendAllPairs(h);
        h.sim.runUntil({});
        expect(new Set(h.deliveries.map((d) => d.id))).toEqual(
          new Set([...pairOf.keys()].filter((id) => !delivered.has(id)).concat([...behind.keys(), ...healed.keys()])),
        );
        // Each connection stays in send order.
        const lastIdOn = new Map<string, number>();
        for (const d of h.deliveries) {
          const key = `${d.from}>${d.to}`;
          expect(d.id, key).toBeGreaterThan(lastIdOn.get(key) ?? -1);
          lastIdOn.set(key, d.id);
        }
        expect(h.net.stats().held).toBe(0);
        expectConservation(h.net);
      }),
      { numRuns: 300 },
    );
  });

  it('a message sent into a partition arrives after the heal, one latency later (TCP retransmits it)', () => {
    const h = harness(1, 2, { latency: { distribution: 'constant', ms: 10 } });
    h.net.isolate(1);
    const id = h.send(0, 1);
    h.sim.runUntil(5_000);
    h.net.heal();
    h.sim.runUntil({});
    expect(h.deliveries.map((d) => [d.id, d.atUs])).toEqual([[id, 15_000]]);
    expect(h.net.stats()).toMatchObject({ sent: 1, delivered: 1, blocked: 0, held: 0 });
  });

  it('a connection stalled longer than connectionTimeoutMs is reset when the partition heals: what it held is dropped', () => {
    const h = harness(1, 2, { latency: { distribution: 'constant', ms: 1 }, connectionTimeoutMs: 30_000 });
    h.net.isolate(1);
    h.send(0, 1);
    h.sim.runUntil(31_000_000);
    h.net.heal();
    const after = h.send(0, 1);
    h.sim.runUntil({});
    expect(h.deliveries.map((d) => d.id)).toEqual([]);
    expect(h.net.stats()).toMatchObject({ sent: 2, delivered: 0, blocked: 2, held: 0 });
    // The next message opens a new connection.
    const fresh = h.send(0, 1);
    h.sim.runUntil({});
    expect(h.deliveries.map((d) => d.id)).toEqual([fresh]);
    expect(after).toBeLessThan(fresh);
  });

  it('disconnect drops what the connection holds both ways and the answers in flight to the closer, but not what it already sent', () => {
    const h = harness(1, 2, { latency: { distribution: 'constant', ms: 10 } });
    const request = h.send(0, 1);
    const answer = h.send(1, 0);
    h.net.blockOneWay(1, 0);
    const heldAnswer = h.send(1, 0);
    h.net.disconnect(0, 1);
    h.net.unblockOneWay(1, 0);
    const next = h.send(1, 0);
    h.sim.runUntil({});
    expect(h.deliveries.map((d) => d.id)).toEqual([request, next]);
    expect(answer).toBeLessThan(heldAnswer);
    expect(h.net.stats()).toMatchObject({ sent: 4, delivered: 2, blocked: 2, held: 0 });
  });

  it('a process that stops takes its connections with it: held messages to and from it are dropped', () => {
    const h = harness(1, 3, { latency: { distribution: 'constant', ms: 1 } });
    h.net.isolate(1);
    h.send(0, 1);
    h.send(1, 2);
    const other = h.send(0, 2);
    h.net.resetConnections(1);
    h.net.heal();
    h.sim.runUntil({});
    expect(h.deliveries.map((d) => d.id)).toEqual([other]);
    expect(h.net.stats()).toMatchObject({ blocked: 2, held: 0 });
  });

  it('blocks one way only: the reverse direction still works', () => {
    const h = harness(1, 2);
    h.net.blockOneWay(0, 1);
    expect(h.net.canReach(0, 1)).toBe(false);
    expect(h.net.canReach(1, 0)).toBe(true);
    h.send(0, 1);
    const back = h.send(1, 0);
    h.sim.runUntil({});
    expect(h.deliveries.map((d) => d.id)).toEqual([back]);
  });

  it('bridges two sides through one node that talks to both (Jepsen bridge)', () => {
    const h = harness(1, 5);
    h.net.bridge([0, 1, 2], [2, 3, 4], 2);
    expect(h.net.canReach(0, 3)).toBe(false);
    expect(h.net.canReach(4, 1)).toBe(false);
    expect(h.net.canReach(0, 1)).toBe(true);
    for (const n of [0, 1, 3, 4]) {
      expect(h.net.canReach(n, 2)).toBe(true);
      expect(h.net.canReach(2, n)).toBe(true);
    }
  });
});

describe('loss and duplication', () => {
  const run = (seed: number) => {
    const h = harness(seed, 2, { lossRate: 0.1, duplicateRate: 0.1 });
    for (let i = 0; i < 10_000; i++) h.send(0, 1);
    h.sim.runUntil({});
    return { stats: h.net.stats(), ids: h.deliveries.map((d) => d.id), net: h.net };
  };

  it('loses and duplicates about the configured fraction of 10k messages', () => {
    const { stats, net } = run(42);
    expect(stats.dropped).toBeGreaterThan(850);
    expect(stats.dropped).toBeLessThan(1_150);
    // Only messages that were not lost can be duplicated: about 0.1 × 9000.
    expect(stats.duplicated).toBeGreaterThan(750);
    expect(stats.duplicated).toBeLessThan(1_050);
    expect(stats.delivered).toBe(10_000 - stats.dropped + stats.duplicated);
    expectConservation(net);
  });

  it('loses and duplicates the same messages for the same seed, and others for another seed', () => {
    expect(run(42).ids).toEqual(run(42).ids);
    expect(run(42).ids).not.toEqual(run(43).ids);
  });

  it('never loses or duplicates with the default rates', () => {
    const h = harness(1, 2);
    for (let i = 0; i < 1_000; i++) h.send(0, 1);
    h.sim.runUntil({});
    expect(h.deliveries.map((d) => d.id)).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
  });
});

describe('bandwidth', () => {
  const MB = 1_000_000;

  it('takes at least a second to move 1 MB over a 1 MB/s link', () => {
    const h = harness(1, 2, { bandwidthBytesPerSec: MB });
    h.send(0, 1, MB);
    h.sim.runUntil({});
    expect(h.deliveries[0].atUs).toBe(1_000_000 + 500);
  });

  it('queues back-to-back messages behind each other on the link', () => {
    const h = harness(1, 3, { bandwidthBytesPerSec: MB });
    h.send(0, 1, MB);
    h.send(0, 1, MB);
    h.send(0, 1, MB / 2);
    h.send(0, 2, MB); // another link has its own wire
    h.sim.runUntil({});
    const at = (to: number) => h.deliveries.filter((d) => d.to === to).map((d) => d.atUs);
    expect(at(1)).toEqual([1_000_500, 2_000_500, 2_500_500]);
    expect(at(2)).toEqual([1_000_500]);
  });

  it('starts transmitting on a link that went idle when the message is sent, not when the link freed', () => {
    const h = harness(1, 2, { bandwidthBytesPerSec: MB, latency: { distribution: 'constant', ms: 0 } });
    h.send(0, 1, MB);
    h.sim.runUntil(5_000_000);
    h.send(0, 1, MB);
    h.sim.runUntil({});
    expect(h.deliveries.map((d) => d.atUs)).toEqual([1_000_000, 6_000_000]);
  });

  it('adds no serialisation delay with infinite bandwidth', () => {
    const h = harness(1, 2);
    h.send(0, 1, 10 * MB);
    h.send(0, 1, 10 * MB);
    h.sim.runUntil({});
    expect(h.deliveries.map((d) => d.atUs)).toEqual([500, 500]);
  });
});

describe('latency matrix precedence: setLink > rack pair > region pair > defaults', () => {
  const constant = (ms: number): LatencySpec => ({ distribution: 'constant', ms });
  const placements: NodePlacement[] = [
    { rack: 'a', region: 'eu' },
    { rack: 'a', region: 'eu' },
    { rack: 'b', region: 'eu' },
    { rack: 'c', region: 'us' },
    {},
  ];

  it('picks the most specific latency and uses it for deliveries', () => {
    const h = harness(1, 5, { latency: constant(1) }, placements);
    h.net.setRegionLatency('us', 'eu', constant(80));
    h.net.setRackLatency('a', 'a', constant(0.1));
    h.net.setRackLatency('b', 'a', constant(2));
    h.net.setRackLatency('c', 'b', constant(70));
    h.net.setLink(3, 2, { latency: constant(90) });
    const latencyMs = (from: number, to: number) => (h.net.linkConfig(from, to).latency as { ms: number }).ms;
    expect(latencyMs(0, 1)).toBe(0.1); // same rack
    expect(latencyMs(0, 2)).toBe(2); // rack pair, either order
    expect(latencyMs(2, 0)).toBe(2);
    expect(latencyMs(0, 3)).toBe(80); // region pair
    expect(latencyMs(2, 3)).toBe(70); // rack pair beats region pair
    expect(latencyMs(3, 2)).toBe(90); // setLink beats both, one direction only
    expect(latencyMs(4, 0)).toBe(1); // default placement: defaults
    for (const [from, to] of [[0, 1], [0, 2], [0, 3], [2, 3], [3, 2], [4, 0]]) h.send(from, to);
    h.sim.runUntil({});
    expect(h.deliveries.map((d) => d.atUs)).toEqual([100, 1_000, 2_000, 70_000, 80_000, 90_000]);
  });

  it('reports placements with defaults and keeps nodes in addition order', () => {
    const h = harness(1, 0);
    h.net.addNode(7, { rack: 'r1' });
    h.net.addNode(3);
    expect(h.net.nodes()).toEqual([7, 3]);
    expect(h.net.placement(7)).toEqual({ rack: 'r1', region: 'default' });
    expect(h.net.placement(3)).toEqual({ rack: 'default', region: 'default' });
    expect(h.net.hasNode(3)).toBe(true);
    expect(h.net.hasNode(4)).toBe(false);
  });

  it('merges setLink patches and falls back to the matrix after clearLink', () => {
    const h = harness(1, 2, { latency: constant(1) }, placements);
    h.net.setRackLatency('a', 'a', constant(3));
    h.net.setLink(0, 1, { latency: constant(9) });
    h.net.setLink(0, 1, { lossRate: 0.5 });
    expect(h.net.linkConfig(0, 1)).toEqual({ latency: constant(9), bandwidthBytesPerSec: Infinity, lossRate: 0.5, duplicateRate: 0, reorder: false, connectionTimeoutMs: 30_000 });
    h.net.clearLink(0, 1);
    expect(h.net.linkConfig(0, 1)).toEqual({ latency: constant(3), bandwidthBytesPerSec: Infinity, lossRate: 0, duplicateRate: 0, reorder: false, connectionTimeoutMs: 30_000 });
  });
});

describe('determinism', () => {
  const workload = (seed: number) => {
    const h = harness(seed, 4, { latency: { distribution: 'lognormal', medianMs: 1, sigma: 1 }, lossRate: 0.05, duplicateRate: 0.05 });
    const rng = h.sim.rng.fork('workload');
    for (let i = 0; i < 500; i++) {
      h.sim.runUntil(h.sim.nowUs + rng.int(0, 200));
      h.send(rng.int(0, 3), rng.int(0, 3));
      if (i === 200) h.net.partition([[0, 1], [2]]);
      if (i === 300) h.net.heal();
    }
    h.sim.runUntil({});
    return { deliveries: h.deliveries, hash: h.sim.traceHash };
  };

  it('gives the same deliveries and trace hash for the same seed', () => {
    const a = workload(9);
    const b = workload(9);
    expect(a.deliveries).toEqual(b.deliveries);
    expect(a.hash).toBe(b.hash);
  });

  it('gives different deliveries and trace hashes for different seeds', () => {
    const a = workload(9);
    const b = workload(10);
    expect(a.deliveries).not.toEqual(b.deliveries);
    expect(a.hash).not.toBe(b.hash);
  });

  it('gives each link its own stream: other links’ traffic does not change its draws, and links do not share draws', () => {
    const run = (noise: boolean) => {
      const h = harness(5, 4, { latency: { distribution: 'exponential', meanMs: 3 }, reorder: true });
      for (let i = 0; i < 100; i++) {
        h.send(0, 1);
        if (noise) h.send(2, 3);
      }
      h.sim.runUntil({});
      const arrivals = (from: number) => h.deliveries.filter((d) => d.from === from).map((d) => d.atUs).sort((a, b) => a - b);
      return { quiet: arrivals(0), noise: arrivals(2) };
    };
    const withNoise = run(true);
    expect(withNoise.quiet).toEqual(run(false).quiet);
    expect(withNoise.noise).not.toEqual(withNoise.quiet);
  });
});

describe('bad inputs throw SimulationError', () => {
  const h = harness(1, 3);
  const cases: [string, () => void, RegExp][] = [
    ['duplicate node', () => h.net.addNode(1), /already/],
    ['negative id', () => h.net.addNode(-1), /-1/],
    ['fractional id', () => h.net.addNode(1.5), /1\.5/],
    ['id ≥ 2^21', () => h.net.addNode(2 ** 21), /2097152/],
    ['empty rack', () => h.net.addNode(9, { rack: '' }), /rack/],
    ['send from unknown', () => h.net.send(5, 0, { type: 'x' }), /unknown node 5/],
    ['send to unknown', () => h.net.send(0, 5, { type: 'x' }), /unknown node 5/],
    ['send from a fractional id', () => h.net.send(0.5, 0, { type: 'x' }), /0\.5/],
    ['negative size', () => h.net.send(0, 1, { type: 'x', sizeBytes: -1 }), /sizeBytes.*-1/],
    ['NaN size', () => h.net.send(0, 1, { type: 'x', sizeBytes: NaN }), /NaN/],
    ['loss > 1', () => h.net.setDefaults({ lossRate: 1.5 }), /lossRate.*1\.5/],
    ['negative duplication', () => h.net.setLink(0, 1, { duplicateRate: -0.1 }), /duplicateRate.*-0\.1/],
    ['NaN loss', () => h.net.setLink(0, 1, { lossRate: NaN }), /lossRate.*NaN/],
    ['negative bandwidth', () => h.net.setDefaults({ bandwidthBytesPerSec: -5 }), /bandwidth.*-5/],
    ['NaN bandwidth', () => h.net.setDefaults({ bandwidthBytesPerSec: NaN }), /bandwidth.*NaN/],
    ['zero bandwidth', () => h.net.setDefaults({ bandwidthBytesPerSec: 0 }), /bandwidth.*0/],
    ['unknown field', () => h.net.setDefaults({ lossrate: 0.1 } as unknown as Partial<LinkConfig>), /lossrate/],
    ['bad latency', () => h.net.setRackLatency('a', 'b', { distribution: 'constant', ms: -1 }), /ms.*-1/],
    ['setLink on unknown', () => h.net.setLink(0, 7, {}), /unknown node 7/],
    ['setLink on self', () => h.net.setLink(1, 1, {}), /self/],
    ['isolate unknown', () => h.net.isolate(8), /unknown node 8/],
    ['partition unknown', () => h.net.partition([[0], [8]]), /unknown node 8/],
    ['node in two groups', () => h.net.partition([[0, 1], [1, 2]]), /node 1/],
    ['one-way to self', () => h.net.blockOneWay(2, 2), /self/],
    ['bridge node on both sides', () => h.net.bridge([0, 1], [1, 2], 0), /node 1/],
    ['canReach unknown', () => h.net.canReach(0, 9), /unknown node 9/],
  ];
  for (const [name, thunk, message] of cases) {
    it(name, () => {
      expect(thunk).toThrow(SimulationError);
      expect(thunk).toThrow(message);
    });
  }

  it('rejects a fractional id whose link key collides with an existing link', () => {
    const g = harness(1, 1);
    g.net.addNode(2 ** 20);
    g.send(0, 2 ** 20); // link key 0 * 2^21 + 2^20, the same number as 0.5 * 2^21 + 0
    expect(() => g.net.send(0.5, 0, { type: 'x' })).toThrow(SimulationError);
  });

  it('a rejected config leaves the network unchanged', () => {
    const g = harness(1, 2);
    expect(() => g.net.setDefaults({ lossRate: 0.5, duplicateRate: 2 })).toThrow(SimulationError);
    expect(g.net.linkConfig(0, 1).lossRate).toBe(0);
    expect(() => g.net.partition([[0], [1], [9]])).toThrow(SimulationError);
    expect(g.net.canReach(0, 1)).toBe(true);
  });
});
