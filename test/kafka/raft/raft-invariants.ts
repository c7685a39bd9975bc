import type { ElectionState } from '../../../src/kafka/raft/epoch-state.js';
import type { KafkaRaftClient } from '../../../src/kafka/raft/kafka-raft-client.js';
import type { RaftEntry } from '../../../src/kafka/raft/raft-log.js';

/** What the invariants read from a cluster: persisted election states (all nodes) and the running clients. */
export interface QuorumView {
  /** Every node, running or not. */
  readonly nodeIds: readonly number[];
  /** The node's quorum-state file as it is on disk now (survives crashes), or undefined if none. */
  persistedElection(nodeId: number): ElectionState | undefined;
  /** The live client of a running node. */
  runningClient(nodeId: number): KafkaRaftClient | undefined;
  readonly voterIds: readonly number[];
  /** The end of the node's metadata log as a power loss now would leave it (its durable content). */
  durableLogEndOffset(nodeId: number): number;
}

export interface Violation {
  readonly invariant: string;
  readonly atUs: number;
  readonly message: string;
}

/** Identity of an entry for comparisons across nodes: its epoch and its record. */
function entryKey(e: RaftEntry): string {
  return `${e.epoch}|${e.control ? 'control|' : ''}${JSON.stringify(e.record)}`;
}

/**
 * The invariants of Kafka's RaftEventSimulationTest, named as kafkaesque names them, checked
 * after every event (KRAFT.md §5):
 * - `single-leader-per-epoch` (SingleLeader): over every node's *persisted* election state, no
 *   epoch ever names two leaders. Stronger than Kafka's, which only compares with the highest
 *   epoch seen so far: here every (epoch, leader) ever seen is remembered.
 * - `monotonic-epoch` (MonotonicEpoch): a node's persisted epoch never decreases; a running node's
 *   in-memory epoch equals its persisted one (except while its quorum-state write is in flight,
 *   which Kafka's synchronous write makes invisible: the client is "inside its poll").
 * - `monotonic-high-watermark` (MonotonicHighWatermark): the HW of the running leader with the
 *   highest epoch never goes back. A stale leader of an older epoch (partitioned, not yet
 *   resigned) is skipped, where Kafka's `leaderWithMaxEpoch` could compare against it.
 * - `consistent-committed-metadata` (ConsistentCommittedData, here after every event and not only
 *   at the end): the first entry any running node holds below its HW at an offset is the only
 *   one any node may ever hold there below its HW. Control entries included.
 * - `metadata-log-matching`: a follower's or observer's log below its HW is a prefix of the log of
 *   the highest-epoch leader (whose epoch is at least the node's): the leader holds every
 *   committed offset, with the same entry.
 * - `majority-reached-high-watermark` (MajorityReachedHighWatermark): a majority of voters, running
 *   or not, hold the leader's HW. Kafka reads MockLog's end offset; here the *durable* end of each
 *   voter's log, so it also checks that KRaft fsyncs before an entry counts. Checked whenever the
 *   leader's HW changes.
 *
 * Entries below a node's HW never change within one incarnation (the model asserts it), so the
 * per-event checks are incremental; `validateAll` re-reads everything, as Kafka's Validation does.
 */
export class RaftInvariants {
  readonly violations: Violation[] = [];
  private readonly leaderOfEpoch = new Map<number, number>();
  private readonly persistedEpoch = new Map<number, number>();
  private hwObserved: { epoch: number; hw: number } | undefined;
  private majorityChecked: { client: KafkaRaftClient; hw: number } | undefined;
  private readonly committed = new Map<number, string>();
  private readonly committedChecked = new WeakMap<KafkaRaftClient, number>();
  private readonly matchedChecked = new WeakMap<KafkaRaftClient, WeakMap<KafkaRaftClient, number>>();
  checks = 0;

  constructor(
    private readonly view: QuorumView,
    private readonly nowUs: () => number,
    /** Throw at the first violation (property tests) or only collect them. */
    private readonly throwOnViolation = true,
  ) {}

  verify(): void {
    this.checks++;
    this.singleLeaderPerEpoch();
    this.monotonicEpoch();
    this.monotonicHighWatermark();
    this.majorityReachedHighWatermark();
    this.consistentCommittedMetadata(false);
    this.metadataLogMatching();
  }

  /** The end-of-run Validation: every running node's committed prefix, from offset 0. */
  validateAll(): void {
    this.consistentCommittedMetadata(true);
  }

  private fail(invariant: string, message: string): void {
    const v = { invariant, atUs: this.nowUs(), message };
    this.violations.push(v);
    if (this.throwOnViolation) throw new Error(`${invariant} at ${(v.atUs / 1000).toFixed(3)}ms: ${message}`);
  }

  private singleLeaderPerEpoch(): void {
    for (const id of this.view.nodeIds) {
      const e = this.view.persistedElection(id);
      if (e === undefined || e.leaderId < 0) continue;
      const known = this.leaderOfEpoch.get(e.epoch);
      if (known === undefined) this.leaderOfEpoch.set(e.epoch, e.leaderId);
      else if (known !== e.leaderId) this.fail('single-leader-per-epoch', `epoch ${e.epoch} has leaders ${known} and ${e.leaderId} (node ${id}'s quorum-state)`);
    }
  }

  private monotonicEpoch(): void {
    for (const id of this.view.nodeIds) {
      const e = this.view.persistedElection(id);
      if (e === undefined) continue;
      const last = this.persistedEpoch.get(id) ?? 0;
      if (e.epoch < last) this.fail('monotonic-epoch', `node ${id}'s persisted epoch went from ${last} to ${e.epoch}`);
      this.persistedEpoch.set(id, e.epoch);
      const client = this.view.runningClient(id);
      if (client !== undefined && !client.isWritingElectionState && client.fatal === undefined && client.epoch !== e.epoch) {
        this.fail('monotonic-epoch', `node ${id} runs in epoch ${client.epoch} but its quorum-state says ${e.epoch}`);
      }
    }
  }

  /** The running leader with the highest epoch (Kafka's leaderWithMaxEpoch). */
  leaderWithMaxEpoch(): { id: number; client: KafkaRaftClient } | undefined {
    let best: { id: number; client: KafkaRaftClient } | undefined;
    for (const id of this.view.nodeIds) {
      const c = this.view.runningClient(id);
      if (c === undefined || c.role !== 'leader') continue;
      if (best === undefined || c.epoch > best.client.epoch) best = { id, client: c };
    }
    return best;
  }

  private monotonicHighWatermark(): void {
    const leader = this.leaderWithMaxEpoch();
    const hw = leader?.client.highWatermark;
    if (leader === undefined || hw === undefined) return;
    const last = this.hwObserved;
    if (last !== undefined && leader.client.epoch < last.epoch) return;
    if (last !== undefined && hw < last.hw) {
      this.fail('monotonic-high-watermark', `leader ${leader.id} (epoch ${leader.client.epoch}) has HW ${hw} after ${last.hw} in epoch ${last.epoch}`);
    }
    this.hwObserved = { epoch: leader.client.epoch, hw: Math.max(hw, last?.hw ?? 0) };
  }

  private majorityReachedHighWatermark(): void {
    const leader = this.leaderWithMaxEpoch();
    const hw = leader?.client.highWatermark;
    if (leader === undefined || hw === undefined) return;
    const last = this.majorityChecked;
    if (last !== undefined && last.client === leader.client && last.hw === hw) return;
    const voters = this.view.voterIds;
    const reached = voters.filter((id) => this.view.durableLogEndOffset(id) >= hw);
    if (reached.length < Math.floor(voters.length / 2) + 1) {
      this.fail('majority-reached-high-watermark', `leader ${leader.id} (epoch ${leader.client.epoch}) has HW ${hw}, durable on voters [${reached.join(',')}] only`);
    }
    this.majorityChecked = { client: leader.client, hw };
  }

  private consistentCommittedMetadata(full: boolean): void {
    for (const id of this.view.nodeIds) {
      const c = this.view.runningClient(id);
      const hw = c?.highWatermark;
      if (c === undefined || hw === undefined) continue;
      const from = full ? 0 : (this.committedChecked.get(c) ?? 0);
      if (hw <= from) continue;
      if (c.logEndOffset < hw) this.fail('consistent-committed-metadata', `node ${id} has HW ${hw} beyond its log end ${c.logEndOffset}`);
      for (const e of c.entries(from, hw)) {
        const key = entryKey(e);
        const first = this.committed.get(e.offset);
        if (first === undefined) this.committed.set(e.offset, key);
        else if (first !== key) this.fail('consistent-committed-metadata', `node ${id} has ${key} at committed offset ${e.offset}, first seen committed as ${first}`);
      }
      this.committedChecked.set(c, Math.max(hw, this.committedChecked.get(c) ?? 0));
    }
  }

  private metadataLogMatching(): void {
    const leader = this.leaderWithMaxEpoch();
    if (leader === undefined) return;
    const L = leader.client;
    let checkedFor = this.matchedChecked.get(L);
    if (checkedFor === undefined) {
      checkedFor = new WeakMap();
      this.matchedChecked.set(L, checkedFor);
    }
    for (const id of this.view.nodeIds) {
      const c = this.view.runningClient(id);
      if (c === undefined || c === L || c.epoch > L.epoch) continue;
      const hw = c.highWatermark;
      const from = checkedFor.get(c) ?? 0;
      if (hw === undefined || hw <= from) continue;
      if (L.logEndOffset < hw) {
        this.fail('metadata-log-matching', `node ${id} (epoch ${c.epoch}) has HW ${hw} but leader ${leader.id} (epoch ${L.epoch}) ends at ${L.logEndOffset}`);
        continue;
      }
      for (let offset = from; offset < hw; offset++) {
        const mine = c.entryAt(offset);
        const theirs = L.entryAt(offset);
        if (mine === undefined || theirs === undefined || entryKey(mine) !== entryKey(theirs)) {
          this.fail('metadata-log-matching', `node ${id} and leader ${leader.id} differ at committed offset ${offset}`);
          break;
        }
      }
      checkedFor.set(c, hw);
    }
  }
}
