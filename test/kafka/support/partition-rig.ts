import { Partition, type PartitionContext, type ProduceAppend } from '../../../src/kafka/broker/partition.js';
import type { Replica } from '../../../src/kafka/broker/replica.js';
import type { LogConfig } from '../../../src/kafka/broker/log/log-config.js';
import type { UnifiedLog } from '../../../src/kafka/broker/log/unified-log.js';
import { Errors, type ErrorCode } from '../../../src/kafka/protocol/errors.js';
import {
  NO_LEADER_EPOCH,
  type AlterPartitionItem,
  type BrokerRegistration,
  type FetchPartitionResponse,
  type PartitionRegistration,
} from '../../../src/kafka/protocol/messages.js';
import { CURRENT_KAFKA, type ProtocolSwitches } from '../../../src/kafka/protocol/switches.js';
import { clientBatch, DiskRig, openLog, TEST_CONFIG } from '../log/log-rig.js';

/** The local broker, as `brokerId` in Kafka's AbstractPartitionTest. */
export const LEADER = 1;
export const FOLLOWER_1 = 2;
export const FOLLOWER_2 = 3;
export const FOLLOWER_3 = 4;

/** AbstractPartitionTest.defaultBrokerEpoch: each broker's registered epoch in the metadata cache. */
export function defaultBrokerEpoch(brokerId: number): number {
  return brokerId + 1000;
}

/**
 * Kafka's MockTime starts at the wall clock, so "0" (a replica's initial lastCaughtUpTimeMs) is
 * decades ago. The rig's clock starts far enough from 0 for that to hold here too.
 */
export const RIG_START_MS = 1_000_000;

export interface PartitionRigOptions {
  readonly brokerId?: number;
  readonly switches?: Partial<ProtocolSwitches>;
  readonly config?: Partial<LogConfig>;
  readonly replicaLagTimeMaxMs?: number;
  readonly startMs?: number;
}

export interface FetchOptions {
  /** CurrentLeaderEpoch (KIP-320); NO_LEADER_EPOCH when absent. */
  readonly currentLeaderEpoch?: number;
  /** LastFetchedEpoch (KIP-595); NO_LEADER_EPOCH when absent. */
  readonly lastFetchedEpoch?: number;
  /** ReplicaEpoch (KIP-903); the follower's registered epoch by default. */
  readonly replicaEpoch?: number;
  readonly logStartOffset?: number;
  readonly maxBytes?: number;
}

/**
 * One Partition on a simulated disk with a fake broker around it, in the shape of Kafka's
 * PartitionTest: a manual clock (`sleep`), a metadata cache of broker registrations, and an
 * AlterPartition manager that queues what the partition submits until the test completes or
 * fails it (MockAlterPartitionManager: `isrUpdates`, `completeIsrUpdate`, `failIsrUpdate`).
 */
export class PartitionRig {
  readonly disk: DiskRig;
  readonly log: UnifiedLog;
  readonly partition: Partition;
  readonly brokerId: number;
  readonly brokers = new Map<number, BrokerRegistration>();
  /** AlterPartition requests submitted and not yet answered, oldest first. */
  readonly isrUpdates: AlterPartitionItem[] = [];
  nowMs: number;

  constructor(options: PartitionRigOptions = {}) {
    this.brokerId = options.brokerId ?? LEADER;
    this.nowMs = options.startMs ?? RIG_START_MS;
    this.disk = new DiskRig();
    this.log = openLog(this.disk, { config: { ...TEST_CONFIG, ...options.config }, nowMs: this.nowMs });
    const switches = { ...CURRENT_KAFKA, ...options.switches };
    const ctx: PartitionContext = {
      brokerId: this.brokerId,
      switches,
      replicaLagTimeMaxMs: options.replicaLagTimeMaxMs ?? 30_000,
      brokerEpoch: () => defaultBrokerEpoch(this.brokerId),
      brokerRegistration: (id) => this.brokers.get(id),
    };
    for (const id of [LEADER, FOLLOWER_1, FOLLOWER_2, FOLLOWER_3]) this.register(id);
    this.partition = new Partition('t', 0, this.log, ctx);
  }

  sleep(ms: number): void {
    this.nowMs += ms;
  }

  /** The metadata cache's registration of `id` (unfenced, at its default epoch unless patched). */
  register(id: number, patch: Partial<BrokerRegistration> = {}): void {
    this.brokers.set(id, { brokerId: id, brokerEpoch: defaultBrokerEpoch(id), fenced: false, inControlledShutdown: false, rack: null, ...patch });
  }

  /** PartitionTest.seedLogData: `count` one-record batches appended as leader in `leaderEpoch`. */
  seedLogData(count: number, leaderEpoch: number): void {
    for (let i = 0; i < count; i++) {
      const appended = this.log.appendAsLeader(clientBatch([`k${i}`]), leaderEpoch, this.nowMs);
      if (!appended.ok) throw new Error(`seed append failed: ${appended.error}`);
    }
  }

  registration(r: { leader?: number; leaderEpoch: number; isr: readonly number[]; replicas: readonly number[]; partitionEpoch: number }): PartitionRegistration {
    return { topic: 't', partition: 0, replicas: r.replicas, isr: r.isr, elr: [], leader: r.leader ?? this.brokerId, leaderEpoch: r.leaderEpoch, partitionEpoch: r.partitionEpoch };
  }

  makeLeader(r: { leaderEpoch: number; isr: readonly number[]; replicas: readonly number[]; partitionEpoch: number }): boolean {
    return this.partition.makeLeader(this.registration(r), this.nowMs);
  }

  makeFollower(r: { leader: number; leaderEpoch: number; isr: readonly number[]; replicas: readonly number[]; partitionEpoch: number }): boolean {
    return this.partition.makeFollower(this.registration(r));
  }

  /** A client produce of `values` (one batch) with `acks`. */
  append(values: readonly string[], acks: number, batch = clientBatch(values)): ProduceAppend {
    return this.partition.appendRecordsToLeader(batch, acks, this.nowMs);
  }

  /** A follower's Fetch for this partition (PartitionTest.fetchFollower); queues any AlterPartition it triggers. */
  fetchFollower(replicaId: number, fetchOffset: number, o: FetchOptions = {}): FetchPartitionResponse {
    const result = this.partition.fetchFromFollower(
      replicaId,
      o.replicaEpoch ?? defaultBrokerEpoch(replicaId),
      {
        topic: 't',
        partition: 0,
        fetchOffset,
        currentLeaderEpoch: o.currentLeaderEpoch ?? NO_LEADER_EPOCH,
        lastFetchedEpoch: o.lastFetchedEpoch ?? NO_LEADER_EPOCH,
        logStartOffset: o.logStartOffset ?? 0,
        partitionMaxBytes: o.maxBytes ?? 1_048_576,
      },
      this.nowMs,
    );
    if (result.alter !== undefined) this.isrUpdates.push(result.alter);
    return result.response;
  }

  /** A consumer's Fetch (read_uncommitted). */
  fetchConsumer(fetchOffset: number, o: FetchOptions = {}): FetchPartitionResponse {
    return this.partition.fetchFromConsumer({
      topic: 't',
      partition: 0,
      fetchOffset,
      currentLeaderEpoch: o.currentLeaderEpoch ?? NO_LEADER_EPOCH,
      lastFetchedEpoch: NO_LEADER_EPOCH,
      logStartOffset: -1,
      partitionMaxBytes: o.maxBytes ?? 1_048_576,
    });
  }

  /** The isr-expiration task. */
  maybeShrinkIsr(): void {
    const item = this.partition.maybeShrinkIsr(this.nowMs);
    if (item !== undefined) this.isrUpdates.push(item);
  }

  /** The controller accepts the oldest pending AlterPartition: the proposed ISR at `newPartitionEpoch`. */
  completeIsrUpdate(newPartitionEpoch: number): 'done' | 'retry' {
    const sent = this.takeUpdate();
    return this.partition.onAlterPartitionResponse(
      sent,
      { topic: 't', partition: 0, error: Errors.NONE, leaderId: this.brokerId, leaderEpoch: sent.leaderEpoch, isr: sent.newIsrWithEpochs.map((b) => b.brokerId), partitionEpoch: newPartitionEpoch },
      this.nowMs,
    );
  }

  /** The oldest pending AlterPartition fails with `error`; a retry is queued again, as AlterPartitionManager resubmits. */
  failIsrUpdate(error: ErrorCode): 'done' | 'retry' {
    const sent = this.takeUpdate();
    const outcome = this.partition.onAlterPartitionResponse(sent, { topic: 't', partition: 0, error, leaderId: -1, leaderEpoch: -1, isr: [], partitionEpoch: -1 }, this.nowMs);
    if (outcome === 'retry') {
      const pending = this.partition.pendingAlterPartition();
      if (pending !== undefined) this.isrUpdates.push(pending);
    }
    return outcome;
  }

  /** The leader's view of follower `id`. */
  replica(id: number): Replica {
    const role = this.partition.role;
    if (role.kind !== 'leader') throw new Error('not leader');
    const replica = role.remotes.get(id);
    if (replica === undefined) throw new Error(`no replica ${id}`);
    return replica;
  }

  /** The offset at which the current leader epoch began, or undefined on a follower. */
  get leaderEpochStartOffset(): number | undefined {
    const role = this.partition.role;
    return role.kind === 'leader' ? role.epochStartOffset : undefined;
  }

  /** The committed ISR and the maximal ISR, sorted, for comparing with Kafka's sets. */
  isrSets(): { isr: number[]; maximalIsr: number[]; inflight: boolean } {
    const state = this.partition.isrState;
    return {
      isr: [...this.partition.isr].sort((a, b) => a - b),
      maximalIsr: [...this.partition.maximalIsr].sort((a, b) => a - b),
      inflight: state !== undefined && state.kind !== 'committed',
    };
  }

  private takeUpdate(): AlterPartitionItem {
    const sent = this.isrUpdates.shift();
    if (sent === undefined) throw new Error('no AlterPartition in flight');
    return sent;
  }
}

/** The brokers of an AlterPartition item, sorted. */
export function proposedIsr(item: AlterPartitionItem): number[] {
  return item.newIsrWithEpochs.map((b) => b.brokerId).sort((a, b) => a - b);
}
