import type { ReplicaSnapshot, ReplicationView } from '../check/replication-invariants.js';
import type { Broker } from '../kafka/broker/broker.js';
import type { Partition } from '../kafka/broker/partition.js';
import type { World } from '../world/world.js';

/**
 * The replication invariants' view of a running cluster: every live broker's replica of each
 * partition, read straight from the broker objects (the checker sees what no node could).
 */
export function replicationView(world: World, brokerIds: readonly number[], partitions: () => readonly string[]): ReplicationView {
  return {
    partitions,
    liveReplicas: (key) => {
      const out: ReplicaSnapshot[] = [];
      for (const id of brokerIds) {
        const m = world.machine(id);
        if (m.state === 'stopped') continue;
        const part = (m.process as Broker | undefined)?.replicaManager.partition(key);
        if (part !== undefined) out.push(replicaSnapshot(id, part, m.incarnation));
      }
      return out;
    },
  };
}

/** One replica, with records identified by (leader epoch, value), found by binary search. */
export function replicaSnapshot(broker: number, p: Partition, incarnation?: number): ReplicaSnapshot {
  const log = p.log;
  let segments: ReturnType<typeof log.segments> | undefined;
  return {
    broker,
    incarnation,
    isLeader: p.isLeader,
    leaderEpoch: p.leaderEpoch,
    highWatermark: log.highWatermark,
    logStartOffset: log.logStartOffset,
    logEndOffset: log.logEndOffset,
    isr: p.maximalIsr,
    recordAt(offset: number) {
      if (offset < log.logStartOffset || offset >= log.logEndOffset) return undefined;
      segments ??= log.segments();
      const batches = lastAtOrBelow(segments, offset, (s) => s.baseOffset)?.batches;
      const b = batches === undefined ? undefined : lastAtOrBelow(batches, offset, (x) => x.baseOffset);
      if (b === undefined || offset >= b.baseOffset + b.records.length) return undefined;
      return `${b.partitionLeaderEpoch}:${b.records[offset - b.baseOffset].value}`;
    },
  };
}

/** The last element whose key is ≤ `offset`, in an array sorted by key. */
function lastAtOrBelow<T>(items: readonly T[], offset: number, key: (item: T) => number): T | undefined {
  let lo = 0;
  let hi = items.length - 1;
  let found: T | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (key(items[mid]) <= offset) {
      found = items[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
