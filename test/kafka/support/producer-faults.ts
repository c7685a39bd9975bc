import fc from 'fast-check';
import type { ProducerCluster } from './producer-cluster.js';

/**
 * A fault against the cluster a producer talks to, started at `atMs` (after the workload starts)
 * and healed `durationMs` later:
 * - `crash`: kill -9 of a broker, restarted after the duration (page cache kept);
 * - `pause`: a GC-like stall of a broker;
 * - `isolate`: a broker cut off from everyone, both ways;
 * - `cut-producer`: the producer and a broker cannot talk, both ways (requests lost);
 * - `drop-responses`: the broker's answers to the producer are lost (requests still arrive).
 * `target` is a broker id, or `leader` for the leader of partition 0 when the fault starts.
 */
export interface ProducerFault {
  readonly atMs: number;
  readonly kind: 'crash' | 'pause' | 'isolate' | 'cut-producer' | 'drop-responses';
  readonly target: number | 'leader';
  readonly durationMs: number;
}

/** Faults within the first `windowMs`, each lasting up to `maxDurationMs`; shrinks toward fewer, shorter, earlier faults. */
export function producerFaults(brokerIds: readonly number[], windowMs: number, maxDurationMs: number, maxFaults: number): fc.Arbitrary<ProducerFault[]> {
  const fault = fc.record({
    atMs: fc.integer({ min: 0, max: windowMs }),
    kind: fc.constantFrom('crash', 'pause', 'isolate', 'cut-producer', 'drop-responses') as fc.Arbitrary<ProducerFault['kind']>,
    target: fc.oneof(fc.constant('leader' as const), fc.constantFrom(...brokerIds)),
    durationMs: fc.integer({ min: 100, max: maxDurationMs }),
  });
  return fc.array(fault, { minLength: 1, maxLength: maxFaults }).map((faults) => [...faults].sort((a, b) => a.atMs - b.atMs));
}

/**
 * Runs the cluster for `totalMs`, starting and healing the faults on time (times relative to
 * now). Network faults heal one by one by clearing their own blocks; healing is exact because
 * the world's `heal()` clears every block, so overlapping network faults are re-applied.
 */
export function runWithFaults(c: ProducerCluster, producerId: number, faults: readonly ProducerFault[], totalMs: number): void {
  const startMs = c.world.nowUs / 1000;
  type Event = { atMs: number; run: () => void };
  const events: Event[] = [];
  const activeNetwork = new Set<() => void>();
  const reapplyNetwork = () => {
    c.world.network.heal();
    for (const apply of activeNetwork) apply();
  };
  for (const f of faults) {
    let broker = -1;
    const resolve = () => (broker = f.target === 'leader' ? leaderOrAny(c) : f.target);
    const start = { atMs: startMs + f.atMs, run: () => {} };
    const end = { atMs: startMs + f.atMs + f.durationMs, run: () => {} };
    switch (f.kind) {
      case 'crash':
        start.run = () => {
          resolve();
          if (c.world.machine(broker).state !== 'stopped') c.world.machine(broker).kill(Math.round(f.durationMs * 1000));
        };
        break;
      case 'pause':
        start.run = () => {
          resolve();
          c.world.machine(broker).pauseFor(Math.round(f.durationMs * 1000));
        };
        break;
      default: {
        const apply = () => {
          if (f.kind === 'isolate') c.world.network.isolate(broker);
          else if (f.kind === 'cut-producer') c.world.network.partition([[producerId], [broker]]);
          else c.world.network.blockOneWay(broker, producerId);
        };
        start.run = () => {
          resolve();
          activeNetwork.add(apply);
          apply();
        };
        end.run = () => {
          activeNetwork.delete(apply);
          reapplyNetwork();
        };
      }
    }
    events.push(start, end);
  }
  events.sort((a, b) => a.atMs - b.atMs);
  for (const e of events) {
    if (e.atMs > startMs + totalMs) break;
    c.world.runUntil(Math.round(e.atMs * 1000));
    e.run();
  }
  c.world.runUntil(Math.round((startMs + totalMs) * 1000));
  c.world.network.heal();
}

function leaderOrAny(c: ProducerCluster): number {
  const leader = c.leader();
  return leader > 0 ? leader : c.brokerIds[0];
}
