import fc from 'fast-check';
import type { RaftCluster } from './raft-cluster.js';

/**
 * One fault of a random schedule. `target` and `mask` are plain numbers, resolved against the
 * cluster when the fault fires, so a schedule shrinks the same way whatever the cluster size:
 * - `kill`: kill -9 of the process, restarted after `durationMs` (RaftEventSimulationTest's
 *   kill + start; the page cache survives, so nothing written is lost);
 * - `power-loss`: the machine loses power for `durationMs`: only fsync'd data survives and the
 *   first unsynced append may be torn (MockLog.reopen's "loss of unflushed data");
 * - `isolate`: one node cut off from everyone (DropAllTraffic);
 * - `split`: the cluster in two halves; with five voters always a 2|3 split of the voters
 *   (canMakeProgressIfMajorityIsReachable), otherwise the voters picked by `mask`. Observers go
 *   to either side by `mask`.
 */
export interface RaftFault {
  readonly kind: 'kill' | 'power-loss' | 'isolate' | 'split';
  readonly atMs: number;
  readonly durationMs: number;
  readonly target: number;
  readonly mask: number;
}

/** Faults start within this window after the warm-up. */
export const FAULT_WINDOW_MS = 20_000;

/** A fault; shrinks towards an early, short kill of the first node. */
export const raftFaultArb: fc.Arbitrary<RaftFault> = fc.record({
  kind: fc.constantFrom('kill' as const, 'power-loss' as const, 'isolate' as const, 'split' as const),
  atMs: fc.integer({ min: 0, max: FAULT_WINDOW_MS }),
  durationMs: fc.integer({ min: 100, max: 8_000 }),
  target: fc.nat({ max: 15 }),
  mask: fc.nat({ max: 1023 }),
});

/** The pairs of five voters, for the 2|3 split. */
const PAIRS_OF_FIVE: readonly (readonly [number, number])[] = [
  [0, 1], [0, 2], [0, 3], [0, 4], [1, 2], [1, 3], [1, 4], [2, 3], [2, 4], [3, 4],
];

/** The two sides of a split, as node ids. */
export function splitSides(cluster: RaftCluster, mask: number): [number[], number[]] {
  const voters = cluster.voterIds;
  let sideA: number[];
  if (voters.length === 5) {
    const [i, j] = PAIRS_OF_FIVE[mask % PAIRS_OF_FIVE.length];
    sideA = [voters[i], voters[j]];
  } else {
    sideA = voters.filter((_, i) => ((mask >> i) & 1) === 1);
    if (sideA.length === 0 || sideA.length === voters.length) sideA = [voters[mask % voters.length]];
  }
  const sideB = voters.filter((v) => !sideA.includes(v));
  cluster.observerIds.forEach((o, i) => ((mask >> (5 + i)) & 1) === 1 ? sideA.push(o) : sideB.push(o));
  return [sideA, sideB];
}

interface TimedAction {
  readonly atMs: number;
  readonly order: number;
  readonly run: () => void;
}

/**
 * Plays `faults` on the cluster, starting `startMs` from now, and returns when the last one has
 * ended (machines restarted by their own boot events, partitions removed). Network faults may
 * overlap: at every change the network is healed and the faults still active are applied again.
 */
export function playFaults(cluster: RaftCluster, faults: readonly RaftFault[]): void {
  const t0 = cluster.nowMs;
  const actions: TimedAction[] = [];
  const activeNetwork = new Set<RaftFault>();
  let order = 0;
  const reapplyNetwork = () => {
    cluster.world.network.heal();
    for (const f of activeNetwork) {
      if (f.kind === 'isolate') cluster.world.network.isolate(cluster.nodeIds[f.target % cluster.nodeIds.length]);
      else cluster.world.network.partition(splitSides(cluster, f.mask));
    }
  };
  for (const f of faults) {
    const at = t0 + f.atMs;
    if (f.kind === 'kill' || f.kind === 'power-loss') {
      actions.push({
        atMs: at,
        order: order++,
        run: () => {
          const m = cluster.world.machine(cluster.nodeIds[f.target % cluster.nodeIds.length]);
          if (f.kind === 'kill') m.kill(f.durationMs * 1000);
          else m.powerCycle(f.durationMs * 1000);
        },
      });
    } else {
      actions.push({ atMs: at, order: order++, run: () => (activeNetwork.add(f), reapplyNetwork()) });
      actions.push({ atMs: at + f.durationMs, order: order++, run: () => (activeNetwork.delete(f), reapplyNetwork()) });
    }
  }
  actions.sort((a, b) => a.atMs - b.atMs || a.order - b.order);
  for (const a of actions) {
    if (a.atMs > cluster.nowMs) cluster.runForMs(a.atMs - cluster.nowMs);
    cluster.act(a.run);
  }
  // Let pending restarts and power-ons happen.
  const lastEnd = Math.max(t0, ...faults.map((f) => t0 + f.atMs + f.durationMs));
  if (lastEnd > cluster.nowMs) cluster.runForMs(lastEnd - cluster.nowMs);
}
