import { describe, expect, it } from 'vitest';
import { Replica } from '../../../src/kafka/broker/replica.js';
import { Errors } from '../../../src/kafka/protocol/errors.js';
import type { FetchPartitionResponse } from '../../../src/kafka/protocol/messages.js';
import { clientBatch } from '../log/log-rig.js';
import { defaultBrokerEpoch, FOLLOWER_1, FOLLOWER_2, FOLLOWER_3, LEADER, PartitionRig, proposedIsr, RIG_START_MS } from '../support/partition-rig.js';

/**
 * The Partition and Replica state machines on their own, on a simulated disk, ported from
 * Kafka's core/src/test/scala/unit/kafka/cluster/{PartitionTest,ReplicaTest}.scala (each test
 * names the Kafka test it follows) and REPLICATION.md §4–§9. Expected values are Kafka's.
 * Kafka's PartitionTest uses brokerId for the leader and brokerId + 1.. for followers; here they
 * are LEADER (1) and FOLLOWER_1..3 (2..4). Clocks start far from 0, as Kafka's MockTime does.
 */

const LAG_MS = 30_000;
const L = LEADER;
const F1 = FOLLOWER_1;
const F2 = FOLLOWER_2;
const F3 = FOLLOWER_3;

function fetched(r: FetchPartitionResponse) {
  return { error: r.error, offsets: r.batches.map((b) => b.baseOffset), divergingEpoch: r.divergingEpoch };
}

function replicaState(r: Replica) {
  return {
    logStartOffset: r.logStartOffset,
    logEndOffset: r.logEndOffset,
    lastCaughtUpTimeMs: r.lastCaughtUpTimeMs,
    lastFetchLeaderLogEndOffset: r.lastFetchLeaderLogEndOffset,
    lastFetchTimeMs: r.lastFetchTimeMs,
    brokerEpoch: r.brokerEpoch,
  };
}

// ---------------------------------------------------------------------------------------------
describe('Replica: what a leader knows of one follower (ReplicaTest)', () => {
  const T0 = RIG_START_MS;

  it('starts with unknown offsets, never caught up, no broker epoch (testInitialState)', () => {
    const r = new Replica(F1);
    // Kafka's Empty state has lastFetchLeaderLogEndOffset 0 and a reset one -1; neither is observable,
    // since fetch offsets are ≥ 0, so it is not compared.
    const { lastFetchLeaderLogEndOffset: _ignored, ...rest } = replicaState(r);
    expect(rest).toEqual({ logStartOffset: -1, logEndOffset: -1, lastCaughtUpTimeMs: -Infinity, lastFetchTimeMs: -Infinity, brokerEpoch: undefined });
  });

  it('is caught up at a fetch that reaches the leader end, or at the previous fetch once it reaches what the leader had then (testUpdateFetchState)', () => {
    const r = new Replica(F1);
    r.updateFetchState(5, 1, T0, 10, 1, undefined);
    expect(replicaState(r)).toEqual({ logStartOffset: 1, logEndOffset: 5, lastCaughtUpTimeMs: -Infinity, lastFetchLeaderLogEndOffset: 10, lastFetchTimeMs: T0, brokerEpoch: 1 });
    r.updateFetchState(10, 2, T0 + 100, 15, 1, undefined);
    expect(replicaState(r)).toEqual({ logStartOffset: 2, logEndOffset: 10, lastCaughtUpTimeMs: T0, lastFetchLeaderLogEndOffset: 15, lastFetchTimeMs: T0 + 100, brokerEpoch: 1 });
    r.updateFetchState(15, 3, T0 + 200, 15, 1, undefined);
    expect(replicaState(r)).toEqual({ logStartOffset: 3, logEndOffset: 15, lastCaughtUpTimeMs: T0 + 200, lastFetchLeaderLogEndOffset: 15, lastFetchTimeMs: T0 + 200, brokerEpoch: 1 });
  });

  describe('resetReplicaState when this broker becomes leader in a new epoch', () => {
    function afterFetchAtEnd(): Replica {
      const r = new Replica(F1);
      r.updateFetchState(10, 1, T0, 10, 1, undefined);
      return r;
    }

    it('re-elected, follower in sync: keeps offsets, caught up and fetched now (testResetReplicaStateWhenLeaderIsReelectedAndReplicaIsInSync)', () => {
      const r = afterFetchAtEnd();
      r.reset(T0 + 500, 11, true, true);
      expect(replicaState(r)).toEqual({ logStartOffset: 1, logEndOffset: 10, lastCaughtUpTimeMs: T0 + 500, lastFetchLeaderLogEndOffset: 11, lastFetchTimeMs: T0 + 500, brokerEpoch: 1 });
    });

    it('re-elected, follower not in sync: keeps offsets, never caught up (testResetReplicaStateWhenLeaderIsReelectedAndReplicaIsNotInSync)', () => {
      const r = afterFetchAtEnd();
      r.reset(T0 + 500, 11, true, false);
      expect(replicaState(r)).toEqual({ logStartOffset: 1, logEndOffset: 10, lastCaughtUpTimeMs: -Infinity, lastFetchLeaderLogEndOffset: 11, lastFetchTimeMs: -Infinity, brokerEpoch: 1 });
    });

    it('new leader, follower in sync: forgets everything but counts it caught up now (testResetReplicaStateWhenNewLeaderIsElectedAndReplicaIsInSync)', () => {
      const r = afterFetchAtEnd();
      r.reset(T0 + 500, 11, false, true);
      expect(replicaState(r)).toEqual({ logStartOffset: -1, logEndOffset: -1, lastCaughtUpTimeMs: T0 + 500, lastFetchLeaderLogEndOffset: -1, lastFetchTimeMs: -Infinity, brokerEpoch: undefined });
    });

    it('new leader, follower not in sync: forgets everything (testResetReplicaStateWhenNewLeaderIsElectedAndReplicaIsNotInSync)', () => {
      const r = afterFetchAtEnd();
      r.reset(T0 + 500, 11, false, false);
      expect(replicaState(r)).toEqual({ logStartOffset: -1, logEndOffset: -1, lastCaughtUpTimeMs: -Infinity, lastFetchLeaderLogEndOffset: -1, lastFetchTimeMs: -Infinity, brokerEpoch: undefined });
    });
  });

  it('a follower at the leader end stays caught up however long nothing new arrives (testIsCaughtUpWhenReplicaIsCaughtUpToLogEnd)', () => {
    const r = new Replica(F1);
    expect(r.isCaughtUp(10, T0, LAG_MS)).toBe(false);
    r.updateFetchState(10, 1, T0, 10, 1, undefined);
    expect(r.isCaughtUp(10, T0, LAG_MS)).toBe(true);
    expect(r.isCaughtUp(10, T0 + LAG_MS + 1, LAG_MS)).toBe(true);
  });

  it('a follower behind the leader end is caught up only within replica.lag.time.max.ms of its last catch-up (testIsCaughtUpWhenReplicaIsNotCaughtUpToLogEnd)', () => {
    const r = new Replica(F1);
    expect(r.isCaughtUp(10, T0, LAG_MS)).toBe(false);
    r.updateFetchState(5, 1, T0, 10, 1, undefined);
    expect(r.isCaughtUp(10, T0, LAG_MS)).toBe(false);
    r.updateFetchState(10, 1, T0, 15, 1, undefined);
    expect(r.isCaughtUp(16, T0, LAG_MS)).toBe(true);
    expect(r.isCaughtUp(16, T0 + LAG_MS, LAG_MS)).toBe(true);
    expect(r.isCaughtUp(16, T0 + LAG_MS + 1, LAG_MS)).toBe(false);
  });

  // BUG (replica.ts:13 and :45): "never caught up" is lastCaughtUpTimeMs = 0, as in Kafka's
  // Replica.scala (ReplicaState.Empty, resetReplicaState). Kafka's clock is epoch milliseconds, so
  // 0 is decades ago and ReplicaTest.testIsCaughtUpWhenReplicaIsNotCaughtUpToLogEnd asserts
  // `assertFalse(isCaughtUp(leaderEndOffset = 10L))` on a fresh replica. The simulator's clock
  // starts at 0, so for the first replica.lag.time.max.ms of every run a replica that never
  // caught up counts as caught up (and holds the HW back, see the HW tests below).
  it('a replica that never fetched is not caught up, even in the first 30 s of a run (BUG: the simulated clock starts at 0)', () => {
    const r = new Replica(F1);
    expect(r.isCaughtUp(10, 5_000, LAG_MS)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
describe('makeLeader and makeFollower: leader epochs and partition epochs', () => {
  it('records the new leader epoch at the LEO before any append (KAFKA-7415; testMakeLeaderUpdatesEpochCache)', () => {
    const rig = new PartitionRig();
    rig.log.appendAsLeader(clientBatch(['k1', 'k2']), 0, rig.nowMs);
    rig.log.appendAsLeader(clientBatch(['k3', 'k4']), 5, rig.nowMs);
    expect(rig.log.logEndOffset).toBe(4);
    expect(rig.makeLeader({ leaderEpoch: 8, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 })).toBe(true);
    expect(rig.partition.lastOffsetForLeaderEpoch(8)).toEqual({ epoch: 8, endOffset: 4 });
    expect(rig.log.epochCache.entries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 5, startOffset: 2 },
      { epoch: 8, startOffset: 4 },
    ]);
    expect(rig.leaderEpochStartOffset).toBe(4);
  });

  it('before KIP-279 (epochEndOffsetLookup off) the new epoch enters the cache only with its first append', () => {
    const rig = new PartitionRig({ switches: { epochEndOffsetLookup: false } });
    rig.log.appendAsLeader(clientBatch(['k1', 'k2']), 0, rig.nowMs);
    rig.log.appendAsLeader(clientBatch(['k3', 'k4']), 5, rig.nowMs);
    rig.makeLeader({ leaderEpoch: 8, isr: [L], replicas: [L, F1], partitionEpoch: 1 });
    expect(rig.log.epochCache.latestEntry()).toEqual({ epoch: 5, startOffset: 2 });
    // The 0.11–1.1 lookup: an epoch later than every cached one is UNDEFINED.
    expect(rig.partition.lastOffsetForLeaderEpoch(8)).toEqual({ epoch: -1, endOffset: -1 });
    expect(rig.leaderEpochStartOffset).toBe(4);
    rig.append(['k5'], 1);
    expect(rig.log.epochCache.latestEntry()).toEqual({ epoch: 8, startOffset: 4 });
  });

  it('a same-epoch update (new partition epoch) keeps the epoch start offset and the epoch cache (testDoNotUpdateEpochStartOffsetIfLeaderEpochIsNotBumped)', () => {
    const rig = new PartitionRig();
    expect(rig.makeLeader({ leaderEpoch: 8, isr: [L], replicas: [L, F1], partitionEpoch: 1 })).toBe(true);
    expect(rig.partition.partitionEpoch).toBe(1);
    expect(rig.leaderEpochStartOffset).toBe(0);
    expect(rig.log.epochCache.latestEntry()).toEqual({ epoch: 8, startOffset: 0 });
    rig.log.appendAsLeader(clientBatch(['k1', 'k1']), 8, rig.nowMs);
    expect(rig.makeLeader({ leaderEpoch: 8, isr: [L], replicas: [L, F1], partitionEpoch: 2 })).toBe(false);
    expect(rig.partition.partitionEpoch).toBe(2);
    expect(rig.partition.leaderEpoch).toBe(8);
    expect(rig.partition.isr).toEqual([L]);
    expect(rig.leaderEpochStartOffset).toBe(0);
    expect(rig.log.epochCache.latestEntry()).toEqual({ epoch: 8, startOffset: 0 });
  });

  it('a same-epoch update keeps what the leader knows of its followers (testDoNotResetReplicaStateIfLeaderEpochIsNotBumped)', () => {
    const rig = new PartitionRig();
    expect(rig.makeLeader({ leaderEpoch: 8, isr: [L], replicas: [L, F1], partitionEpoch: 1 })).toBe(true);
    expect(replicaState(rig.replica(F1))).toMatchObject({ lastCaughtUpTimeMs: -Infinity, logStartOffset: -1, logEndOffset: -1 });
    rig.fetchFollower(F1, 0);
    const fetchedAt = rig.nowMs;
    expect(replicaState(rig.replica(F1))).toMatchObject({ lastCaughtUpTimeMs: fetchedAt, logStartOffset: 0, logEndOffset: 0 });
    rig.sleep(1_000);
    expect(rig.makeLeader({ leaderEpoch: 8, isr: [L], replicas: [L, F1], partitionEpoch: 2 })).toBe(false);
    expect(rig.partition.partitionEpoch).toBe(2);
    expect(rig.partition.isr).toEqual([L]);
    expect(replicaState(rig.replica(F1))).toMatchObject({ lastCaughtUpTimeMs: fetchedAt, logStartOffset: 0, logEndOffset: 0 });
  });

  it('ignores a leader state with an older partition epoch (testIgnoreLeaderPartitionStateChangeWithOlderPartitionEpoch)', () => {
    const rig = new PartitionRig();
    expect(rig.makeLeader({ leaderEpoch: 8, isr: [L], replicas: [L], partitionEpoch: 1 })).toBe(true);
    expect(rig.makeLeader({ leaderEpoch: 8, isr: [L], replicas: [L], partitionEpoch: 0 })).toBe(false);
    expect(rig.partition.partitionEpoch).toBe(1);
    expect(rig.partition.leaderEpoch).toBe(8);
    // Even one that would change the ISR or demote this broker.
    expect(rig.makeLeader({ leaderEpoch: 8, isr: [L, F1], replicas: [L, F1], partitionEpoch: 0 })).toBe(false);
    expect(rig.makeFollower({ leader: F1, leaderEpoch: 9, isr: [L, F1], replicas: [L, F1], partitionEpoch: 0 })).toBe(false);
    expect(rig.partition.isLeader).toBe(true);
    expect(rig.partition.isr).toEqual([L]);
    expect(rig.partition.replicas).toEqual([L]);
  });

  it('a repeated follower state is not a new epoch (testIgnoreFollowerPartitionStateChangeWithOlderPartitionEpoch)', () => {
    const rig = new PartitionRig();
    expect(rig.makeFollower({ leader: F1, leaderEpoch: 8, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 })).toBe(true);
    expect(rig.makeFollower({ leader: F1, leaderEpoch: 8, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 })).toBe(false);
    expect(rig.partition.partitionEpoch).toBe(1);
    expect(rig.partition.leaderEpoch).toBe(8);
  });

  it('a new leader epoch with the same leader restarts the fetcher; the same epoch does not (testMakeFollowerWithNoLeaderIdChange)', () => {
    const rig = new PartitionRig();
    const replicas = [F1, F2, F3, L];
    rig.makeFollower({ leader: F1, leaderEpoch: 1, isr: replicas, replicas, partitionEpoch: 1 });
    expect(rig.makeFollower({ leader: F1, leaderEpoch: 4, isr: replicas, replicas, partitionEpoch: 1 })).toBe(true);
    expect(rig.makeFollower({ leader: F1, leaderEpoch: 4, isr: replicas, replicas, partitionEpoch: 1 })).toBe(false);
  });

  it('a follower keeps no ISR and no follower states (testFollowerShouldNotHaveAnyRemoteReplicaStates)', () => {
    const rig = new PartitionRig();
    const replicas = [L, F1, F2];
    expect(rig.makeLeader({ leaderEpoch: 1, isr: replicas, replicas, partitionEpoch: 1 })).toBe(true);
    expect(rig.partition.isr).toEqual(replicas);
    expect(rig.makeFollower({ leader: F1, leaderEpoch: 2, isr: replicas, replicas, partitionEpoch: 2 })).toBe(true);
    expect({ isLeader: rig.partition.isLeader, leaderEpoch: rig.partition.leaderEpoch, partitionEpoch: rig.partition.partitionEpoch }).toEqual({ isLeader: false, leaderEpoch: 2, partitionEpoch: 2 });
    expect(rig.partition.isr).toEqual([]);
    expect(rig.partition.maximalIsr).toEqual([]);
    expect(rig.partition.replicas).toEqual(replicas);
  });

  it('a new leader forgets its followers\' offsets, so the HW waits until every ISR follower has fetched once (REPLICATION.md §5.1)', () => {
    const rig = new PartitionRig();
    rig.seedLogData(10, 4);
    rig.makeLeader({ leaderEpoch: 5, isr: [L, F1, F2], replicas: [L, F1, F2], partitionEpoch: 1 });
    expect(rig.log.highWatermark).toBe(0);
    rig.fetchFollower(F1, 10);
    expect(rig.log.highWatermark).toBe(0);
    rig.fetchFollower(F2, 10);
    expect(rig.log.highWatermark).toBe(10);
  });

  it('before KIP-101 (leaderEpochTruncation off) becoming a follower truncates the log to the HW', () => {
    const off = new PartitionRig({ switches: { leaderEpochTruncation: false } });
    const on = new PartitionRig();
    for (const rig of [off, on]) {
      rig.makeLeader({ leaderEpoch: 0, isr: [L, F1], replicas: [L, F1], partitionEpoch: 0 });
      for (const v of ['a', 'b', 'c']) rig.append([v], 1);
      rig.fetchFollower(F1, 2); // HW 2: the follower has a, b
      rig.makeFollower({ leader: F1, leaderEpoch: 1, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 });
    }
    expect([off.log.logEndOffset, off.log.highWatermark]).toEqual([2, 2]);
    expect([on.log.logEndOffset, on.log.highWatermark]).toEqual([3, 2]);
  });
});

// ---------------------------------------------------------------------------------------------
describe('ISR expansion: a follower joins when its LEO reaches the HW and the start of the leader epoch', () => {
  it('a follower below the HW stays out; at the HW it is proposed, and counts as in sync before the controller answers (testIsrExpansion)', () => {
    const rig = new PartitionRig();
    rig.seedLogData(10, 4);
    expect(rig.makeLeader({ leaderEpoch: 5, isr: [L], replicas: [L, F1], partitionEpoch: 1 })).toBe(true);
    expect(rig.log.highWatermark).toBe(10);
    expect(replicaState(rig.replica(F1))).toMatchObject({ lastCaughtUpTimeMs: -Infinity, logStartOffset: -1, logEndOffset: -1 });

    rig.fetchFollower(F1, 3);
    expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L], inflight: false });
    expect(replicaState(rig.replica(F1))).toMatchObject({ lastCaughtUpTimeMs: -Infinity, logStartOffset: 0, logEndOffset: 3 });
    expect(rig.isrUpdates).toEqual([]);

    rig.fetchFollower(F1, 10);
    expect(rig.isrUpdates.map(proposedIsr)).toEqual([[L, F1]]);
    // KRaft: each member is sent with the broker epoch of its last fetch (KIP-903), the leader with its own.
    expect(rig.isrUpdates[0]).toMatchObject({ leaderEpoch: 5, partitionEpoch: 1 });
    expect([...rig.isrUpdates[0].newIsrWithEpochs].sort((a, b) => a.brokerId - b.brokerId)).toEqual([
      { brokerId: L, brokerEpoch: defaultBrokerEpoch(L) },
      { brokerId: F1, brokerEpoch: defaultBrokerEpoch(F1) },
    ]);
    expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L, F1], inflight: true });
    expect(replicaState(rig.replica(F1))).toMatchObject({ lastCaughtUpTimeMs: rig.nowMs, logStartOffset: 0, logEndOffset: 10 });

    expect(rig.completeIsrUpdate(2)).toBe('done');
    expect(rig.isrSets()).toEqual({ isr: [L, F1], maximalIsr: [L, F1], inflight: false });
    expect(rig.partition.partitionEpoch).toBe(2);
  });

  it('a follower at the epoch start but below the HW stays out (Partition.isFollowerInSync: followerEndOffset >= highWatermark)', () => {
    const rig = new PartitionRig();
    rig.makeLeader({ leaderEpoch: 0, isr: [L, F2], replicas: [L, F1, F2], partitionEpoch: 1 });
    expect(rig.leaderEpochStartOffset).toBe(0);
    rig.append(['a', 'b', 'c', 'd'], 1);
    rig.fetchFollower(F2, 4);
    expect(rig.log.highWatermark).toBe(4);
    rig.fetchFollower(F1, 2);
    expect(rig.isrUpdates).toEqual([]);
    rig.fetchFollower(F1, 4);
    expect(rig.isrUpdates.map(proposedIsr)).toEqual([[L, F1, F2]]);
  });

  it('a follower at the HW but before the current leader epoch started stays out (testFollowerDoesNotJoinISRUntilCaughtUpToOffsetWithinCurrentLeaderEpoch)', () => {
    const rig = new PartitionRig();
    const replicas = [L, F1, F2];
    const isr = [L, F2];
    expect(rig.makeLeader({ leaderEpoch: 8, isr, replicas, partitionEpoch: 1 })).toBe(true);
    expect(rig.partition.leaderEpoch).toBe(8);
    const batch1 = rig.append(['k1', 'k2'], 0);
    rig.append(['k3', 'k4', 'k5'], 0);
    if (!batch1.ok) throw new Error('append failed');
    const lastOffsetOfFirstBatch = batch1.lastOffset;
    expect(rig.log.highWatermark).toBe(rig.log.logStartOffset);

    rig.fetchFollower(F2, 0);
    rig.fetchFollower(F2, lastOffsetOfFirstBatch);
    expect(rig.log.highWatermark).toBe(lastOffsetOfFirstBatch);

    rig.makeFollower({ leader: F2, leaderEpoch: 9, isr, replicas, partitionEpoch: 1 });
    expect(rig.makeLeader({ leaderEpoch: 10, isr, replicas, partitionEpoch: 1 })).toBe(true);
    const currentLeaderEpochStartOffset = rig.log.logEndOffset;
    expect(rig.leaderEpochStartOffset).toBe(currentLeaderEpochStartOffset);
    rig.append(['k6', 'k7'], 0);

    rig.fetchFollower(F1, 0);
    rig.fetchFollower(F1, lastOffsetOfFirstBatch);
    expect(rig.isrSets().isr).toEqual([L, F2]);
    expect(rig.isrUpdates).toEqual([]);

    rig.fetchFollower(F1, currentLeaderEpochStartOffset);
    expect(rig.isrSets()).toEqual({ isr: [L, F2], maximalIsr: [L, F1, F2], inflight: true });
    expect(rig.isrUpdates.map(proposedIsr)).toEqual([[L, F1, F2]]);
  });

  it('a fenced or shutting-down follower is not proposed; one the controller calls ineligible is reverted (testIsrNotExpandedIfReplicaIsFencedOrShutdown, testIsrNotExpandedIfReplicaIsInControlledShutdown)', () => {
    for (const ineligible of [{ fenced: true }, { inControlledShutdown: true }]) {
      const rig = new PartitionRig();
      rig.seedLogData(10, 4);
      rig.makeLeader({ leaderEpoch: 5, isr: [L], replicas: [L, F1], partitionEpoch: 1 });
      rig.fetchFollower(F1, 10);
      expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L, F1], inflight: true });
      expect(rig.failIsrUpdate(Errors.INELIGIBLE_REPLICA)).toBe('done');
      expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L], inflight: false });
      expect(rig.isrUpdates).toEqual([]);

      rig.register(F1, ineligible);
      rig.fetchFollower(F1, 10);
      expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L], inflight: false });
      expect(rig.isrUpdates).toEqual([]);

      rig.register(F1);
      rig.fetchFollower(F1, 10);
      expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L, F1], inflight: true });
      rig.completeIsrUpdate(2);
      expect(rig.isrSets()).toEqual({ isr: [L, F1], maximalIsr: [L, F1], inflight: false });
    }
  });

  it('an unregistered follower is not proposed (Partition.isReplicaIsrEligible)', () => {
    const rig = new PartitionRig();
    rig.brokers.delete(F1);
    rig.makeLeader({ leaderEpoch: 0, isr: [L], replicas: [L, F1], partitionEpoch: 1 });
    rig.fetchFollower(F1, 0);
    expect(rig.isrUpdates).toEqual([]);
  });

  it('a follower whose fetch carries a broker epoch other than its registered one is not proposed (KIP-903; first half of testIsrCanExpandedIfBrokerEpochsMatchWithKraftMetadataCache)', () => {
    const rig = new PartitionRig();
    rig.seedLogData(10, 4);
    rig.makeLeader({ leaderEpoch: 5, isr: [L, F2], replicas: [L, F1, F2], partitionEpoch: 1 });
    const wrongReplicaEpoch = defaultBrokerEpoch(F1) + 1;
    rig.fetchFollower(F1, 10, { replicaEpoch: wrongReplicaEpoch });
    expect(replicaState(rig.replica(F1))).toMatchObject({ lastCaughtUpTimeMs: rig.nowMs, logStartOffset: 0, logEndOffset: 10, brokerEpoch: wrongReplicaEpoch });
    expect(rig.isrSets()).toEqual({ isr: [L, F2], maximalIsr: [L, F2], inflight: false });
    expect(rig.isrUpdates).toEqual([]);
  });

  // BUG (replica.ts:25): Replica.updateFetchStateOrThrow (Kafka 4.x, Replica.java/scala) fences a
  // fetch whose broker epoch is below the epoch the METADATA CACHE has for that broker
  // (`metadataCache.getAliveBrokerEpoch(brokerId).exists(_ > brokerEpoch)`). Ours compares with
  // the epoch of the follower's previous fetch. So after one fetch with a too-new epoch, the
  // follower's correct (registered) epoch is refused with NOT_LEADER_OR_FOLLOWER forever, and
  // the expansion Kafka's test expects never happens.
  it('a follower refetching with its registered epoch after a mismatched one is proposed, with each member\'s broker epoch (testIsrCanExpandedIfBrokerEpochsMatchWithKraftMetadataCache; BUG: stale-epoch check against the last fetch, not the metadata cache)', () => {
    const rig = new PartitionRig();
    rig.seedLogData(10, 4);
    rig.makeLeader({ leaderEpoch: 5, isr: [L, F2], replicas: [L, F1, F2], partitionEpoch: 1 });
    rig.fetchFollower(F1, 10, { replicaEpoch: defaultBrokerEpoch(F1) + 1 });
    const response = rig.fetchFollower(F1, 10);
    expect(response.error).toBe(Errors.NONE);
    expect(replicaState(rig.replica(F1))).toMatchObject({ logEndOffset: 10, brokerEpoch: defaultBrokerEpoch(F1) });
    expect(rig.isrSets()).toEqual({ isr: [L, F2], maximalIsr: [L, F1, F2], inflight: true });
    // F2 has not fetched since this leader took over: its epoch is unknown, -1.
    expect([...rig.isrUpdates[0].newIsrWithEpochs].sort((a, b) => a.brokerId - b.brokerId)).toEqual([
      { brokerId: L, brokerEpoch: defaultBrokerEpoch(L) },
      { brokerId: F1, brokerEpoch: defaultBrokerEpoch(F1) },
      { brokerId: F2, brokerEpoch: -1 },
    ]);
  });

  it('without KIP-903 (brokerEpochFencing off) broker epochs are neither checked nor sent', () => {
    const rig = new PartitionRig({ switches: { brokerEpochFencing: false } });
    rig.seedLogData(10, 4);
    rig.makeLeader({ leaderEpoch: 5, isr: [L], replicas: [L, F1], partitionEpoch: 1 });
    rig.fetchFollower(F1, 10, { replicaEpoch: 7 });
    expect(rig.isrUpdates[0].newIsrWithEpochs.map((b) => b.brokerEpoch)).toEqual([-1, -1]);
    expect(rig.isrSets().maximalIsr).toEqual([L, F1]);
  });

  it('one AlterPartition at a time: no shrink or other expansion while one is in flight (testSingleInFlightAlterIsr)', () => {
    const rig = new PartitionRig();
    rig.seedLogData(10, 4);
    rig.makeLeader({ leaderEpoch: 5, isr: [L, F1, F2], replicas: [L, F1, F2, F3], partitionEpoch: 1 });
    expect(rig.log.highWatermark).toBe(0);
    rig.fetchFollower(F3, 10);
    expect(rig.isrSets()).toEqual({ isr: [L, F1, F2], maximalIsr: [L, F1, F2, F3], inflight: true });
    expect(rig.isrUpdates.length).toBe(1);
    rig.sleep(LAG_MS + 1);
    rig.maybeShrinkIsr();
    expect(rig.isrUpdates.length).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
describe('ISR shrink: followers that are neither at the leader end nor caught up within replica.lag.time.max.ms', () => {
  it('a new leader counts its ISR caught up at first; one that never fetches is dropped after the lag, and the HW moves once the shrink commits (testMaybeShrinkIsr)', () => {
    const rig = new PartitionRig();
    rig.seedLogData(10, 4);
    const replicas = [L, F1, F2];
    const initializeTimeMs = rig.nowMs;
    rig.makeLeader({ leaderEpoch: 5, isr: replicas, replicas, partitionEpoch: 1 });
    expect(rig.log.highWatermark).toBe(0);
    rig.fetchFollower(F1, rig.log.logEndOffset);
    expect(replicaState(rig.replica(F2))).toMatchObject({ lastCaughtUpTimeMs: initializeTimeMs, logStartOffset: -1, logEndOffset: -1 });

    rig.maybeShrinkIsr();
    expect(rig.isrUpdates).toEqual([]);
    expect(rig.isrSets().isr).toEqual(replicas);

    rig.sleep(LAG_MS + 1);
    rig.maybeShrinkIsr();
    expect(rig.isrUpdates.map(proposedIsr)).toEqual([[L, F1]]);
    expect(rig.isrUpdates[0].newIsrWithEpochs.map((b) => b.brokerEpoch)).toEqual([defaultBrokerEpoch(L), defaultBrokerEpoch(F1)]);
    // Until the controller commits it, the shrink does not count: the HW still waits for F2.
    expect(rig.isrSets()).toEqual({ isr: replicas, maximalIsr: replicas, inflight: true });
    expect(rig.log.highWatermark).toBe(0);

    rig.completeIsrUpdate(2);
    expect(rig.partition.partitionEpoch).toBe(2);
    expect(rig.isrUpdates).toEqual([]);
    expect(rig.isrSets()).toEqual({ isr: [L, F1], maximalIsr: [L, F1], inflight: false });
    expect(rig.log.highWatermark).toBe(rig.log.logEndOffset);
  });

  it('a follower that reaches what the leader had at its previous fetch is still caught up as of that fetch (testShouldNotShrinkIsrIfPreviousFetchIsCaughtUp)', () => {
    const rig = new PartitionRig();
    rig.seedLogData(10, 4);
    const initializeTimeMs = rig.nowMs;
    rig.makeLeader({ leaderEpoch: 5, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 });
    rig.sleep(5_000);
    const firstFetchTimeMs = rig.nowMs;
    rig.fetchFollower(F1, 5);
    expect(replicaState(rig.replica(F1))).toMatchObject({ lastCaughtUpTimeMs: initializeTimeMs, logStartOffset: 0, logEndOffset: 5 });
    expect(rig.log.highWatermark).toBe(5);

    rig.sleep(5_001);
    rig.seedLogData(5, 5);
    rig.fetchFollower(F1, 10);
    expect(replicaState(rig.replica(F1))).toMatchObject({ lastCaughtUpTimeMs: firstFetchTimeMs, logStartOffset: 0, logEndOffset: 10 });
    expect(rig.log.highWatermark).toBe(10);

    rig.maybeShrinkIsr();
    expect(rig.isrSets().isr).toEqual([L, F1]);
    expect(rig.isrUpdates).toEqual([]);
  });

  it('no new data: a silent follower at the leader end stays in sync indefinitely (testShouldNotShrinkIsrIfFollowerCaughtUpToLogEnd)', () => {
    const rig = new PartitionRig();
    rig.seedLogData(10, 4);
    rig.makeLeader({ leaderEpoch: 5, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 });
    rig.fetchFollower(F1, 10);
    expect(replicaState(rig.replica(F1))).toMatchObject({ lastCaughtUpTimeMs: rig.nowMs, logEndOffset: 10 });
    expect(rig.log.highWatermark).toBe(10);
    rig.sleep(30_001);
    rig.maybeShrinkIsr();
    expect(rig.isrSets().isr).toEqual([L, F1]);
    expect(rig.isrUpdates).toEqual([]);
    // One new record makes the same silence a lag: past the limit, the follower is dropped.
    rig.append(['more'], 1);
    rig.maybeShrinkIsr();
    expect(rig.isrUpdates.map(proposedIsr)).toEqual([[L]]);
  });

  it('exactly replica.lag.time.max.ms behind is still in sync; one more millisecond is not (Replica.isCaughtUp uses <=)', () => {
    const rig = new PartitionRig();
    rig.makeLeader({ leaderEpoch: 0, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 });
    rig.fetchFollower(F1, 0);
    const caughtUpAt = rig.nowMs;
    rig.append(['a'], 1);
    rig.nowMs = caughtUpAt + LAG_MS;
    rig.maybeShrinkIsr();
    expect(rig.isrUpdates).toEqual([]);
    rig.nowMs = caughtUpAt + LAG_MS + 1;
    rig.maybeShrinkIsr();
    expect(rig.isrUpdates.map(proposedIsr)).toEqual([[L]]);
  });

  it('there is no min-ISR floor on shrinking (REPLICATION.md §6.2)', () => {
    const rig = new PartitionRig({ config: { minInsyncReplicas: 2 } });
    rig.makeLeader({ leaderEpoch: 0, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 });
    rig.append(['a'], 1);
    rig.sleep(LAG_MS + 1);
    rig.maybeShrinkIsr();
    expect(rig.isrUpdates.map(proposedIsr)).toEqual([[L]]);
  });

  it('a failed shrink that may be retried is resubmitted and keeps the HW where it was; the retry commits (testRetryShrinkIsr)', () => {
    const rig = new PartitionRig();
    rig.seedLogData(10, 4);
    rig.makeLeader({ leaderEpoch: 5, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 });
    expect(rig.log.highWatermark).toBe(0);
    rig.sleep(LAG_MS + 1);
    rig.maybeShrinkIsr();
    expect(rig.isrUpdates.map(proposedIsr)).toEqual([[L]]);
    expect(rig.isrSets()).toEqual({ isr: [L, F1], maximalIsr: [L, F1], inflight: true });

    // Kafka's test fails it with NETWORK_EXCEPTION; any error without a rule of its own is retried.
    expect(rig.failIsrUpdate(Errors.UNKNOWN_SERVER_ERROR)).toBe('retry');
    expect(rig.partition.partitionEpoch).toBe(1);
    expect(rig.isrUpdates.map(proposedIsr)).toEqual([[L]]);
    expect(rig.isrSets()).toEqual({ isr: [L, F1], maximalIsr: [L, F1], inflight: true });
    expect(rig.log.highWatermark).toBe(0);

    rig.completeIsrUpdate(2);
    expect(rig.partition.partitionEpoch).toBe(2);
    expect(rig.isrUpdates).toEqual([]);
    expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L], inflight: false });
    expect(rig.log.highWatermark).toBe(rig.log.logEndOffset);
  });

  it('a shrink refused with INVALID_UPDATE_VERSION stays pending without retry (testIsrNotShrunkIfUpdateFails)', () => {
    const rig = new PartitionRig();
    rig.seedLogData(10, 4);
    rig.makeLeader({ leaderEpoch: 5, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 });
    rig.sleep(30_001);
    rig.maybeShrinkIsr();
    expect(rig.isrSets().isr).toEqual([L, F1]);
    expect(rig.isrUpdates.length).toBe(1);
    expect(rig.failIsrUpdate(Errors.INVALID_UPDATE_VERSION)).toBe('done');
    expect(rig.partition.isrState?.kind).toBe('pending-shrink');
    expect(rig.isrSets().isr).toEqual([L, F1]);
    expect(rig.isrUpdates).toEqual([]);
    expect(rig.log.highWatermark).toBe(0);
  });

  it('new metadata for the same epoch replaces a pending change (testAlterIsrLeaderAndIsrRace, first half)', () => {
    const rig = new PartitionRig();
    rig.seedLogData(10, 4);
    rig.makeLeader({ leaderEpoch: 5, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 });
    rig.sleep(LAG_MS + 1);
    rig.maybeShrinkIsr();
    expect(rig.isrSets().inflight).toBe(true);
    expect(rig.makeLeader({ leaderEpoch: 5, isr: [L, F1], replicas: [L, F1], partitionEpoch: 2 })).toBe(false);
    expect(rig.log.highWatermark).toBe(0);
    expect(rig.isrSets()).toEqual({ isr: [L, F1], maximalIsr: [L, F1], inflight: false });
  });
});

// ---------------------------------------------------------------------------------------------
describe('the leader\'s high watermark: the least LEO over the maximal ISR', () => {
  it('a follower being added counts at once: the HW waits for it though the committed ISR is only the leader (KIP-497 maximal ISR)', () => {
    const rig = new PartitionRig();
    rig.seedLogData(10, 4);
    rig.makeLeader({ leaderEpoch: 5, isr: [L], replicas: [L, F1], partitionEpoch: 1 });
    expect(rig.log.highWatermark).toBe(10);
    rig.fetchFollower(F1, 10);
    expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L, F1], inflight: true });
    // Long enough that F1 no longer counts as merely "caught up": only the maximal ISR holds it.
    rig.sleep(LAG_MS + 1);
    rig.append(['a', 'b'], 1);
    expect(rig.log.logEndOffset).toBe(12);
    expect(rig.replica(F1).isCaughtUp(12, rig.nowMs, LAG_MS)).toBe(false);
    expect(rig.log.highWatermark).toBe(10);
    rig.fetchFollower(F1, 12);
    expect(rig.log.highWatermark).toBe(12);
  });

  it('a caught-up, eligible follower outside the ISR holds the HW back until it joins; a fenced one does not (shouldWaitForReplicaToJoinIsr)', () => {
    for (const fenceF2 of [false, true]) {
      const rig = new PartitionRig();
      rig.seedLogData(10, 4);
      rig.makeLeader({ leaderEpoch: 5, isr: [L], replicas: [L, F1, F2], partitionEpoch: 1 });
      rig.fetchFollower(F1, 10); // F1's expansion is in flight, so F2 cannot be proposed
      rig.fetchFollower(F2, 10);
      expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L, F1], inflight: true });
      if (fenceF2) rig.register(F2, { fenced: true });
      rig.append(['a', 'b'], 1);
      rig.fetchFollower(F1, 12);
      expect(rig.log.highWatermark).toBe(fenceF2 ? 12 : 10);
      rig.fetchFollower(F2, 12);
      expect(rig.log.highWatermark).toBe(12);
    }
  });

  it('a lagging follower outside the ISR that has not caught up within the lag does not hold the HW back', () => {
    const rig = new PartitionRig();
    rig.makeLeader({ leaderEpoch: 0, isr: [L, F1], replicas: [L, F1, F2], partitionEpoch: 1 });
    rig.append(['a', 'b', 'c', 'd', 'e'], 1);
    rig.fetchFollower(F1, 5);
    rig.append(['f', 'g', 'h', 'i', 'j'], 1);
    rig.fetchFollower(F2, 0); // below the HW (5): not proposed for the ISR
    expect(rig.isrUpdates).toEqual([]);
    rig.fetchFollower(F1, 10);
    expect(rig.log.highWatermark).toBe(10);
  });

  // BUG (replica.ts:13, consequence): the same test 5 s into a run. F2's lastCaughtUpTimeMs is 0
  // ("never"), but 5_000 - 0 <= 30_000, so F2 counts as caught up and eligible, and the HW waits
  // for it (Partition.maybeIncrementLeaderHW, shouldWaitForReplicaToJoinIsr,
  // with Kafka's epoch-millisecond clock): 5 instead of Kafka's 10. acks=all writes stall for the
  // first 30 s of a run whenever a replica outside the ISR lags.
  it('the same, early in a run (BUG: "never caught up" is time 0, and the simulated clock starts at 0)', () => {
    const rig = new PartitionRig({ startMs: 5_000 });
    rig.makeLeader({ leaderEpoch: 0, isr: [L, F1], replicas: [L, F1, F2], partitionEpoch: 1 });
    rig.append(['a', 'b', 'c', 'd', 'e'], 1);
    rig.fetchFollower(F1, 5);
    rig.append(['f', 'g', 'h', 'i', 'j'], 1);
    rig.fetchFollower(F2, 0); // below the HW (5): not proposed for the ISR
    expect(rig.isrUpdates).toEqual([]);
    rig.fetchFollower(F1, 10);
    expect(rig.log.highWatermark).toBe(10);
  });

  it('with min ISR on (minIsrGuard), the HW does not move while the committed ISR is below min.insync.replicas, for any acks; it moves once the expansion commits', () => {
    const rig = new PartitionRig({ config: { minInsyncReplicas: 2 } });
    rig.makeLeader({ leaderEpoch: 0, isr: [L], replicas: [L, F1, F2], partitionEpoch: 1 });
    expect(rig.partition.isUnderMinIsr()).toBe(true);
    rig.append(['a', 'b', 'c'], 1);
    expect(rig.log.highWatermark).toBe(0);
    rig.fetchFollower(F1, 3);
    // The maximal ISR has two members, but min ISR counts the committed ISR (Partition.isUnderMinIsr).
    expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L, F1], inflight: true });
    expect(rig.log.highWatermark).toBe(0);
    rig.completeIsrUpdate(2);
    expect(rig.partition.isUnderMinIsr()).toBe(false);
    expect(rig.log.highWatermark).toBe(3);
  });

  it('without min ISR (minIsrGuard off), the leader alone moves the HW', () => {
    const rig = new PartitionRig({ config: { minInsyncReplicas: 2 }, switches: { minIsrGuard: false } });
    rig.makeLeader({ leaderEpoch: 0, isr: [L], replicas: [L, F1, F2], partitionEpoch: 1 });
    rig.append(['a', 'b', 'c'], 1);
    expect(rig.log.highWatermark).toBe(3);
  });
});

// ---------------------------------------------------------------------------------------------
describe('produce: min ISR at append and when acks=all completes', () => {
  it('acks=all is refused with NOT_ENOUGH_REPLICAS while the ISR is below min ISR, and nothing is written; acks 0 and 1 are appended', () => {
    const rig = new PartitionRig({ config: { minInsyncReplicas: 2 } });
    rig.makeLeader({ leaderEpoch: 0, isr: [L], replicas: [L, F1], partitionEpoch: 1 });
    expect(rig.append(['all'], -1)).toEqual({ ok: false, error: Errors.NOT_ENOUGH_REPLICAS });
    expect(rig.log.logEndOffset).toBe(0);
    expect(rig.append(['one'], 1)).toMatchObject({ ok: true, firstOffset: 0, lastOffset: 0 });
    expect(rig.append(['zero'], 0)).toMatchObject({ ok: true, firstOffset: 1, lastOffset: 1 });
    expect(rig.log.logEndOffset).toBe(2);
  });

  it('without min ISR (minIsrGuard off), acks=all is appended with the ISR at the leader alone', () => {
    const rig = new PartitionRig({ config: { minInsyncReplicas: 2 }, switches: { minIsrGuard: false } });
    rig.makeLeader({ leaderEpoch: 0, isr: [L], replicas: [L, F1], partitionEpoch: 1 });
    expect(rig.append(['all'], -1)).toMatchObject({ ok: true, firstOffset: 0 });
  });

  it('min ISR is capped at the replication factor (Partition.effectiveMinIsr)', () => {
    const rig = new PartitionRig({ config: { minInsyncReplicas: 3 } });
    rig.makeLeader({ leaderEpoch: 0, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 });
    expect(rig.partition.effectiveMinIsr).toBe(2);
    expect(rig.append(['all'], -1)).toMatchObject({ ok: true, firstOffset: 0 });
  });

  it('checkEnoughReplicasReachOffset waits for the HW, then answers NONE, or NOT_ENOUGH_REPLICAS_AFTER_APPEND if the maximal ISR fell below min ISR meanwhile', () => {
    for (const minIsrGuard of [true, false]) {
      const rig = new PartitionRig({ config: { minInsyncReplicas: 2 }, switches: { minIsrGuard } });
      rig.makeLeader({ leaderEpoch: 0, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 });
      rig.fetchFollower(F1, 0);
      const appended = rig.append(['a'], -1);
      expect(appended).toMatchObject({ ok: true, firstOffset: 0, lastOffset: 0 });
      expect(rig.partition.checkEnoughReplicasReachOffset(1)).toEqual({ done: false, error: Errors.NONE });
      rig.fetchFollower(F1, 1);
      expect(rig.log.highWatermark).toBe(1);
      // Before the waiting produce is checked again, the controller drops F1 (say, it was fenced).
      rig.makeLeader({ leaderEpoch: 0, isr: [L], replicas: [L, F1], partitionEpoch: 2 });
      expect(rig.partition.checkEnoughReplicasReachOffset(1)).toEqual({ done: true, error: minIsrGuard ? Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND : Errors.NONE });
    }
  });

  it('a follower refuses produce and ends waiting ones with NOT_LEADER_OR_FOLLOWER', () => {
    const rig = new PartitionRig();
    rig.makeFollower({ leader: F1, leaderEpoch: 3, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 });
    expect(rig.append(['a'], 1)).toEqual({ ok: false, error: Errors.NOT_LEADER_OR_FOLLOWER });
    expect(rig.partition.checkEnoughReplicasReachOffset(1)).toEqual({ done: true, error: Errors.NOT_LEADER_OR_FOLLOWER });
  });
});

// ---------------------------------------------------------------------------------------------
describe('AlterPartition responses (Partition.submitAlterPartition, handleAlterPartitionError/Update)', () => {
  /** PartitionTest.handleAlterIsrFailure: an expansion of F1 in flight on a 10-record log. */
  function expansionInFlight(): PartitionRig {
    const rig = new PartitionRig();
    rig.seedLogData(10, 4);
    rig.makeLeader({ leaderEpoch: 5, isr: [L], replicas: [L, F1], partitionEpoch: 1 });
    expect(rig.log.highWatermark).toBe(10);
    const firstFetchTimeMs = rig.nowMs;
    rig.fetchFollower(F1, 10);
    expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L, F1], inflight: true });
    expect(rig.isrUpdates.length).toBe(1);
    expect(replicaState(rig.replica(F1))).toMatchObject({ lastCaughtUpTimeMs: firstFetchTimeMs, logStartOffset: 0, logEndOffset: 10 });
    return rig;
  }

  it('NONE commits the controller\'s ISR and partition epoch', () => {
    const rig = expansionInFlight();
    expect(rig.completeIsrUpdate(7)).toBe('done');
    expect(rig.isrSets()).toEqual({ isr: [L, F1], maximalIsr: [L, F1], inflight: false });
    expect(rig.partition.partitionEpoch).toBe(7);
  });

  for (const [name, error] of [
    ['OPERATION_NOT_ATTEMPTED', Errors.OPERATION_NOT_ATTEMPTED],
    ['INELIGIBLE_REPLICA', Errors.INELIGIBLE_REPLICA],
  ] as const) {
    it(`${name} reverts to the last committed ISR, without retry`, () => {
      const rig = expansionInFlight();
      expect(rig.failIsrUpdate(error)).toBe('done');
      expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L], inflight: false });
      expect(rig.isrUpdates).toEqual([]);
    });
  }

  for (const [name, error, kafkaTest] of [
    ['NEW_LEADER_ELECTED', Errors.NEW_LEADER_ELECTED, 'testAlterIsrNewLeaderElected'],
    ['UNKNOWN_TOPIC_OR_PARTITION', Errors.UNKNOWN_TOPIC_OR_PARTITION, 'testAlterIsrUnknownTopic'],
    ['INVALID_UPDATE_VERSION', Errors.INVALID_UPDATE_VERSION, 'testAlterIsrInvalidVersion'],
    ['FENCED_LEADER_EPOCH', Errors.FENCED_LEADER_EPOCH, 'handleAlterPartitionError'],
  ] as const) {
    it(`${name} stays pending until new metadata, without retry (${kafkaTest})`, () => {
      const rig = expansionInFlight();
      expect(rig.failIsrUpdate(error)).toBe('done');
      expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L, F1], inflight: true });
      expect(rig.isrUpdates).toEqual([]);
    });
  }

  // BUG (partition.ts:365-370): Kafka 4.x Partition.handleAlterPartitionError lists
  // INVALID_REQUEST with the errors that stay pending without retry ("the request is invalid ...
  // awaiting new the latest metadata"); REPLICATION.md §6.5 says so too. Ours falls to `default`
  // and retries it forever (every 100 ms from ReplicaManager).
  it('INVALID_REQUEST stays pending until new metadata, without retry (testInvalidAlterPartitionRequestsAreNotRetried; BUG: retried)', () => {
    const rig = expansionInFlight();
    expect(rig.failIsrUpdate(Errors.INVALID_REQUEST)).toBe('done');
    expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L, F1], inflight: true });
    expect(rig.isrUpdates).toEqual([]);
  });

  it('any other error is retried with the same proposal (testAlterIsrUnexpectedError)', () => {
    const rig = expansionInFlight();
    expect(rig.failIsrUpdate(Errors.UNKNOWN_SERVER_ERROR)).toBe('retry');
    expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L, F1], inflight: true });
    expect(rig.isrUpdates.map(proposedIsr)).toEqual([[L, F1]]);
  });

  it('a success for another leader epoch, or an older partition epoch, is ignored (handleAlterPartitionUpdate)', () => {
    const rig = expansionInFlight();
    const sent = rig.isrUpdates[0];
    const answer = { topic: 't', partition: 0, error: Errors.NONE, leaderId: L, isr: [L, F1] };
    expect(rig.partition.onAlterPartitionResponse(sent, { ...answer, leaderEpoch: 6, partitionEpoch: 2 }, rig.nowMs)).toBe('done');
    expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L, F1], inflight: true });
    expect(rig.partition.onAlterPartitionResponse(sent, { ...answer, leaderEpoch: 5, partitionEpoch: 0 }, rig.nowMs)).toBe('done');
    expect(rig.isrSets()).toEqual({ isr: [L], maximalIsr: [L, F1], inflight: true });
    expect(rig.partition.partitionEpoch).toBe(1);
  });

  // BUG (partition.ts:353): Kafka's submitAlterPartition callback first checks
  // `if (partitionState != proposedIsrState)` and ignores a response for a proposal that is no
  // longer the pending one ("we do know this response is out of date so we ignore it"). Ours
  // applies any response while *some* change is pending: a late NONE commits the old ISR over
  // the newer proposal, a late OPERATION_NOT_ATTEMPTED/INELIGIBLE_REPLICA reverts it, and the
  // newer proposal's own reply is then dropped as "nothing in flight". With the default FIFO
  // links and one controller the reply always precedes the metadata of its own commit, so this
  // needs `reorder: true` links (or a controller failover) to happen in a run.
  it('a response to a proposal that is no longer the pending one is ignored (Partition.submitAlterPartition; BUG: applied to the newer proposal)', () => {
    const rig = new PartitionRig();
    rig.seedLogData(10, 4);
    rig.makeLeader({ leaderEpoch: 5, isr: [L], replicas: [L, F1, F2], partitionEpoch: 1 });
    rig.fetchFollower(F1, 10);
    const first = rig.isrUpdates.shift()!;
    expect(proposedIsr(first)).toEqual([L, F1]);
    // The controller commits it; its metadata overtakes its reply (a reordering link).
    rig.makeLeader({ leaderEpoch: 5, isr: [L, F1], replicas: [L, F1, F2], partitionEpoch: 2 });
    rig.fetchFollower(F2, 10);
    expect(rig.isrSets()).toEqual({ isr: [L, F1], maximalIsr: [L, F1, F2], inflight: true });
    // The late reply to the first proposal.
    rig.partition.onAlterPartitionResponse(first, { topic: 't', partition: 0, error: Errors.NONE, leaderId: L, leaderEpoch: 5, isr: [L, F1], partitionEpoch: 2 }, rig.nowMs);
    expect(rig.isrSets()).toEqual({ isr: [L, F1], maximalIsr: [L, F1, F2], inflight: true });
  });
});

// ---------------------------------------------------------------------------------------------
describe('leader epoch checks on fetch (KIP-320, Partition.checkCurrentLeaderEpoch)', () => {
  function leaderAt5(switches = {}): PartitionRig {
    const rig = new PartitionRig({ switches });
    rig.makeLeader({ leaderEpoch: 5, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 });
    return rig;
  }

  it('an older epoch is FENCED_LEADER_EPOCH, a newer one UNKNOWN_LEADER_EPOCH, the same or none is served (testOffsetForLeaderEpochValidationForLeader)', () => {
    const rig = leaderAt5();
    expect([-1, 5, 4, 6].map((e) => rig.partition.checkCurrentLeaderEpoch(e))).toEqual([Errors.NONE, Errors.NONE, Errors.FENCED_LEADER_EPOCH, Errors.UNKNOWN_LEADER_EPOCH]);
  });

  it('a follower fetch is checked the same way before anything is read or recorded (testLeaderEpochValidationOnLeader)', () => {
    const rig = leaderAt5();
    expect([-1, 5].map((e) => rig.fetchFollower(F1, 0, { currentLeaderEpoch: e }).error)).toEqual([Errors.NONE, Errors.NONE]);
    const before = replicaState(rig.replica(F1));
    rig.sleep(10);
    expect(fetched(rig.fetchFollower(F1, 0, { currentLeaderEpoch: 4 }))).toEqual({ error: Errors.FENCED_LEADER_EPOCH, offsets: [], divergingEpoch: undefined });
    expect(fetched(rig.fetchFollower(F1, 0, { currentLeaderEpoch: 6 }))).toEqual({ error: Errors.UNKNOWN_LEADER_EPOCH, offsets: [], divergingEpoch: undefined });
    expect(replicaState(rig.replica(F1))).toEqual(before);
  });

  it('a consumer fetch too (Partition.fetchRecords for consumers)', () => {
    const rig = leaderAt5();
    expect([-1, 5, 4, 6].map((e) => rig.fetchConsumer(0, { currentLeaderEpoch: e }).error)).toEqual([Errors.NONE, Errors.NONE, Errors.FENCED_LEADER_EPOCH, Errors.UNKNOWN_LEADER_EPOCH]);
  });

  it('without KIP-320 (fetchEpochFencing off) every epoch is served', () => {
    const rig = leaderAt5({ fetchEpochFencing: false });
    expect([-1, 5, 4, 6].map((e) => rig.partition.checkCurrentLeaderEpoch(e))).toEqual([Errors.NONE, Errors.NONE, Errors.NONE, Errors.NONE]);
    expect([4, 6].map((e) => rig.fetchConsumer(0, { currentLeaderEpoch: e }).error)).toEqual([Errors.NONE, Errors.NONE]);
    expect([4, 6].map((e) => rig.fetchFollower(F1, 0, { currentLeaderEpoch: e }).error)).toEqual([Errors.NONE, Errors.NONE]);
  });

  it('a follower answers NOT_LEADER_OR_FOLLOWER to fetches in its own epoch or with none', () => {
    const rig = new PartitionRig();
    rig.makeFollower({ leader: F2, leaderEpoch: 8, isr: [L, F1, F2], replicas: [L, F1, F2], partitionEpoch: 1 });
    expect([-1, 8].map((e) => rig.fetchFollower(F1, 0, { currentLeaderEpoch: e }).error)).toEqual([Errors.NOT_LEADER_OR_FOLLOWER, Errors.NOT_LEADER_OR_FOLLOWER]);
    expect([-1, 8].map((e) => rig.fetchConsumer(0, { currentLeaderEpoch: e }).error)).toEqual([Errors.NOT_LEADER_OR_FOLLOWER, Errors.NOT_LEADER_OR_FOLLOWER]);
  });

  // BUG (partition.ts:220 and :250; also replica-manager.ts:387 and :401 for OffsetForLeaderEpoch
  // and ListOffsets): Kafka checks the epoch first (Partition.getLocalLog: checkCurrentLeaderEpoch,
  // then `requireLeader && !isLeader` → NOT_LEADER_OR_FOLLOWER). So a follower answers a stale
  // epoch with FENCED_LEADER_EPOCH and a newer one with UNKNOWN_LEADER_EPOCH; ours answers
  // NOT_LEADER_OR_FOLLOWER before looking at the epoch. A fetcher that gets FENCED for its own
  // epoch stops until new metadata (onPartitionFenced); with NOT_LEADER it retries every second.
  it('a follower checks the epoch first: older FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH (testReplicaFetchToFollower, testLeaderEpochValidationOnFollower; BUG: NOT_LEADER_OR_FOLLOWER)', () => {
    const rig = new PartitionRig();
    rig.makeFollower({ leader: F2, leaderEpoch: 8, isr: [L, F1, F2], replicas: [L, F1, F2], partitionEpoch: 1 });
    expect([-1, 8, 9, 7].map((e) => rig.fetchFollower(F1, 0, { currentLeaderEpoch: e }).error)).toEqual([
      Errors.NOT_LEADER_OR_FOLLOWER,
      Errors.NOT_LEADER_OR_FOLLOWER,
      Errors.UNKNOWN_LEADER_EPOCH,
      Errors.FENCED_LEADER_EPOCH,
    ]);
    expect([9, 7].map((e) => rig.fetchConsumer(0, { currentLeaderEpoch: e }).error)).toEqual([Errors.UNKNOWN_LEADER_EPOCH, Errors.FENCED_LEADER_EPOCH]);
  });

  it('a replica outside the assignment gets UNKNOWN_LEADER_EPOCH with an epoch, NOT_LEADER_OR_FOLLOWER without, until a reassignment adds it (testFetchFromUnrecognizedFollower)', () => {
    const rig = new PartitionRig();
    expect(rig.makeLeader({ leaderEpoch: 8, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 })).toBe(true);
    expect(rig.fetchFollower(F2, 0, { currentLeaderEpoch: 8 }).error).toBe(Errors.UNKNOWN_LEADER_EPOCH);
    expect(rig.fetchFollower(F3, 0).error).toBe(Errors.NOT_LEADER_OR_FOLLOWER);
    expect(rig.makeLeader({ leaderEpoch: 8, isr: [L, F1], replicas: [L, F1, F2, F3], partitionEpoch: 2 })).toBe(false);
    expect(rig.fetchFollower(F2, 0, { currentLeaderEpoch: 8 }).error).toBe(Errors.NONE);
    expect(rig.replica(F2).logEndOffset).toBe(0);
    expect(rig.fetchFollower(F3, 0).error).toBe(Errors.NONE);
    expect(rig.replica(F3).logEndOffset).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
describe('KIP-903: a follower fetch from a stale broker incarnation', () => {
  it('carrying an older broker epoch than the follower already fetched with, is NOT_LEADER_OR_FOLLOWER and changes nothing', () => {
    const rig = new PartitionRig();
    rig.register(F1, { brokerEpoch: 2_000 }); // F1 restarted and registered again
    rig.makeLeader({ leaderEpoch: 0, isr: [L], replicas: [L, F1], partitionEpoch: 1 });
    rig.append(['a', 'b', 'c'], 1);
    expect(rig.fetchFollower(F1, 3, { replicaEpoch: 2_000 }).error).toBe(Errors.NONE);
    const before = replicaState(rig.replica(F1));
    rig.sleep(10);
    expect(rig.fetchFollower(F1, 0, { replicaEpoch: 1_500 }).error).toBe(Errors.NOT_LEADER_OR_FOLLOWER);
    expect(replicaState(rig.replica(F1))).toEqual(before);
    // -1 (no epoch sent) is never fenced.
    expect(rig.fetchFollower(F1, 3, { replicaEpoch: -1 }).error).toBe(Errors.NONE);
  });

  it('without KIP-903 (brokerEpochFencing off) it is served', () => {
    const rig = new PartitionRig({ switches: { brokerEpochFencing: false } });
    rig.makeLeader({ leaderEpoch: 0, isr: [L], replicas: [L, F1], partitionEpoch: 1 });
    rig.append(['a', 'b', 'c'], 1);
    rig.fetchFollower(F1, 3, { replicaEpoch: 2_000 });
    expect(rig.fetchFollower(F1, 0, { replicaEpoch: 1_500 }).error).toBe(Errors.NONE);
    expect(rig.replica(F1).logEndOffset).toBe(0);
  });

  // BUG (replica.ts:25, same as above): Kafka fences against the registered epoch in the
  // metadata cache. Right after a leader change the leader has forgotten every follower's last
  // epoch (resetReplicaState), so ours serves a fetch from the old incarnation and records its
  // offset as the follower's LEO; Kafka answers NOT_LEADER_OR_FOLLOWER.
  it('from an incarnation older than the registered one, before the new one has fetched, is NOT_LEADER_OR_FOLLOWER (Replica.updateFetchStateOrThrow; BUG: served)', () => {
    const rig = new PartitionRig();
    rig.register(F1, { brokerEpoch: 2_000 });
    rig.makeLeader({ leaderEpoch: 3, isr: [L], replicas: [L, F1], partitionEpoch: 1 });
    rig.append(['a', 'b', 'c'], 1);
    expect(rig.fetchFollower(F1, 2, { replicaEpoch: 1_500 }).error).toBe(Errors.NOT_LEADER_OR_FOLLOWER);
    expect(rig.replica(F1).logEndOffset).toBe(-1);
  });
});

// ---------------------------------------------------------------------------------------------
describe('follower fetch with LastFetchedEpoch: the leader answers where the follower\'s log diverges (KIP-595)', () => {
  /** PartitionTest.testLastFetchedOffsetValidation's log: epochs 0,3,3,4,7,9 then leader in epoch 10. */
  function rig17(): PartitionRig {
    const rig = new PartitionRig();
    const append = (leaderEpoch: number, count: number) =>
      rig.log.appendAsLeader(clientBatch(Array.from({ length: count }, (_, i) => `${i + 1}`)), leaderEpoch, rig.nowMs);
    append(0, 2); // 0
    append(3, 3); // 2
    append(3, 3); // 5
    append(4, 5); // 8
    append(7, 1); // 13
    append(9, 3); // 14
    expect(rig.log.logEndOffset).toBe(17);
    rig.makeLeader({ leaderEpoch: 10, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 });
    return rig;
  }

  const read = (rig: PartitionRig, lastFetchedEpoch: number, fetchOffset: number) =>
    rig.fetchFollower(F1, fetchOffset, { currentLeaderEpoch: 10, lastFetchedEpoch, logStartOffset: 0 });
  const divergence = (epoch: number, endOffset: number) => ({ error: Errors.NONE, offsets: [], divergingEpoch: { epoch, endOffset } });

  it('answers the exact (epoch, end offset) of the divergence, nothing when the logs agree, and OFFSET_OUT_OF_RANGE for an unknown epoch or below the log start (testLastFetchedOffsetValidation)', () => {
    const rig = rig17();
    expect(fetched(read(rig, 2, 5))).toEqual(divergence(0, 2));
    expect(fetched(read(rig, 0, 4))).toEqual(divergence(0, 2));
    expect(fetched(read(rig, 6, 6))).toEqual(divergence(4, 13));
    expect(fetched(read(rig, 5, 9))).toEqual(divergence(4, 13));
    expect(fetched(read(rig, 10, 18))).toEqual(divergence(10, 17));
    expect(fetched(read(rig, 0, 2))).toMatchObject({ error: Errors.NONE, divergingEpoch: undefined });
    expect(fetched(read(rig, 7, 14))).toMatchObject({ error: Errors.NONE, divergingEpoch: undefined });
    expect(fetched(read(rig, 9, 17))).toEqual({ error: Errors.NONE, offsets: [], divergingEpoch: undefined });
    expect(fetched(read(rig, 10, 17))).toEqual({ error: Errors.NONE, offsets: [], divergingEpoch: undefined });
    // An epoch newer than the leader knows.
    expect(read(rig, 11, 5).error).toBe(Errors.OFFSET_OUT_OF_RANGE);

    // Move the log start offset to the middle of epoch 3.
    rig.log.updateHighWatermark(rig.log.logEndOffset);
    expect(rig.log.maybeIncrementLogStartOffset(5)).toBe(Errors.NONE);
    expect(fetched(read(rig, 2, 8))).toEqual(divergence(2, 5));
    expect(fetched(read(rig, 0, 5))).toMatchObject({ error: Errors.NONE, divergingEpoch: undefined });
    expect(fetched(read(rig, 3, 5))).toMatchObject({ error: Errors.NONE, divergingEpoch: undefined });
    expect(read(rig, 0, 0).error).toBe(Errors.OFFSET_OUT_OF_RANGE);

    // A fetch offset below the log start is out of range, diverging or not.
    expect(rig.log.maybeIncrementLogStartOffset(10)).toBe(Errors.NONE);
    expect(read(rig, 5, 6).error).toBe(Errors.OFFSET_OUT_OF_RANGE);
    expect(read(rig, 3, 6).error).toBe(Errors.OFFSET_OUT_OF_RANGE);
  });

  it('a diverging fetch does not update the follower\'s state (Partition.fetchRecords skips updateFollowerFetchState)', () => {
    const rig = rig17();
    read(rig, 9, 17);
    const before = replicaState(rig.replica(F1));
    rig.sleep(100);
    expect(fetched(read(rig, 6, 6))).toEqual(divergence(4, 13));
    expect(replicaState(rig.replica(F1))).toEqual(before);
  });

  it('the records returned start at the fetch offset and reach the leader\'s LEO, past the HW (FetchIsolation.LOG_END)', () => {
    const rig = rig17();
    const r = read(rig, 7, 14);
    expect(fetched(r)).toEqual({ error: Errors.NONE, offsets: [14], divergingEpoch: undefined });
    expect(rig.log.highWatermark).toBe(14);
    // The HW in the response is the one before this fetch moved it.
    expect(r.highWatermark).toBe(0);
  });

  it('a fetch offset past the LEO is OFFSET_OUT_OF_RANGE', () => {
    const rig = rig17();
    expect(rig.fetchFollower(F1, 18, { currentLeaderEpoch: 10 }).error).toBe(Errors.OFFSET_OUT_OF_RANGE);
  });
});

// ---------------------------------------------------------------------------------------------
describe('consumer fetch: read_uncommitted reads up to the high watermark (REPLICATION.md §9)', () => {
  it('returns batches below the HW only; between the HW and the LEO it is empty, not an error; past the LEO, OFFSET_OUT_OF_RANGE', () => {
    const rig = new PartitionRig();
    rig.makeLeader({ leaderEpoch: 0, isr: [L, F1], replicas: [L, F1], partitionEpoch: 1 });
    for (const v of ['a', 'b', 'c']) rig.append([v], 1);
    rig.fetchFollower(F1, 2);
    expect([rig.log.highWatermark, rig.log.logEndOffset]).toEqual([2, 3]);
    const r = rig.fetchConsumer(0);
    expect(fetched(r)).toEqual({ error: Errors.NONE, offsets: [0, 1], divergingEpoch: undefined });
    expect(r.highWatermark).toBe(2);
    expect(fetched(rig.fetchConsumer(2))).toEqual({ error: Errors.NONE, offsets: [], divergingEpoch: undefined });
    expect(fetched(rig.fetchConsumer(3))).toEqual({ error: Errors.NONE, offsets: [], divergingEpoch: undefined });
    expect(rig.fetchConsumer(4).error).toBe(Errors.OFFSET_OUT_OF_RANGE);
  });
});
