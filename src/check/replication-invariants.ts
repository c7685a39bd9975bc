import type { Violation } from './violation.js';

/** One replica of a partition, as the invariant checker sees it. */
export interface ReplicaSnapshot {
  readonly broker: number;
  /** The broker process's incarnation: a restart ends a leader's term even in the same epoch. */
  readonly incarnation?: number;
  readonly isLeader: boolean;
  readonly leaderEpoch: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  /** The leader's maximal ISR (empty on followers). */
  readonly isr: readonly number[];
  /** Identity of the record at `offset` (its batch's checksum and record index), or undefined. */
  recordAt(offset: number): string | undefined;
}

/** What the checker reads: the live replicas of each partition, now. */
export interface ReplicationView {
  partitions(): readonly string[];
  liveReplicas(partition: string): readonly ReplicaSnapshot[];
}

/**
 * Kafka's replication invariants (from Kafka's TLA+ specs and RaftEventSimulationTest, see
 * DESIGN.md "Checks"), checked as the run goes on:
 * - `log-matching`: two replicas agree on every offset below both their high watermarks. It
 *   applies to leaders and the members of a leader's ISR: a follower outside the ISR may still
 *   hold a divergent tail it has not yet truncated (it truncates on its first fetch), which is
 *   exactly why it is outside the ISR.
 * - `monotonic-high-watermark`: a leader's HW never goes back within its leader epoch (and its
 *   process incarnation).
 * - `leader-completeness`: a leader holds every offset committed before its epoch.
 * - `strong-isr`: every live member of the leader's ISR holds the leader's log below the HW.
 * "Committed" means below some leader's HW. Each violation is reported once per partition and
 * check, with its evidence.
 */
export class ReplicationInvariants {
  readonly violations: Violation[] = [];
  /** Per partition: offset → record identity and the leader epoch that committed it. */
  private readonly committed = new Map<string, Map<number, { id: string; epoch: number }>>();
  private readonly committedEnd = new Map<string, number>();
  private readonly hwByLeaderEpoch = new Map<string, number>();
  private readonly reported = new Set<string>();
  /**
   * How far each comparison has been verified, so each check looks only at new offsets. A
   * replica whose log ends below that mark has truncated: the mark falls back to its end.
   */
  private readonly verifiedUpTo = new Map<string, number>();

  constructor(private readonly view: ReplicationView) {}

  /** Checks every invariant now, for one partition or all. `atMs` stamps any violation found. */
  check(atMs: number, partition?: string): void {
    for (const p of partition === undefined ? this.view.partitions() : [partition]) {
      const replicas = this.view.liveReplicas(p);
      this.checkLeaders(p, replicas, atMs);
      this.checkLogMatching(p, replicas, atMs);
    }
  }

  /** Where to resume comparing under `key`, given how far both logs now reach. */
  private resumeFrom(key: string, logEnd: number, floor: number): number {
    const verified = this.verifiedUpTo.get(key) ?? 0;
    return Math.max(floor, Math.min(verified, logEnd));
  }

  private checkLeaders(partition: string, replicas: readonly ReplicaSnapshot[], atMs: number): void {
    const committed = this.committed.get(partition) ?? new Map<number, { id: string; epoch: number }>();
    this.committed.set(partition, committed);
    for (const leader of replicas) {
      if (!leader.isLeader) continue;
      // A leader's term: its epoch and its process. A broker restarted before the controller
      // notices resumes its leadership in the same epoch from its checkpointed (older) HW, as
      // Kafka does; that is a new term, not a step back.
      const key = `${partition}/${leader.broker}/${leader.incarnation ?? 0}/${leader.leaderEpoch}`;
      const previous = this.hwByLeaderEpoch.get(key);
      if (previous !== undefined && leader.highWatermark < previous) {
        this.report('monotonic-high-watermark', partition, atMs, leader.highWatermark, `leader ${leader.broker} of ${partition} in epoch ${leader.leaderEpoch} moved its high watermark back from ${previous} to ${leader.highWatermark}`, { broker: leader.broker, leaderEpoch: leader.leaderEpoch, from: previous, to: leader.highWatermark });
      }
      this.hwByLeaderEpoch.set(key, Math.max(previous ?? -1, leader.highWatermark));

      // leader-completeness: a leader holds everything committed in earlier epochs. (A deposed
      // leader that has not heard of its successor is older than what its successor commits.)
      const end = this.committedEnd.get(partition) ?? 0;
      const completenessKey = `lc/${key}`;
      let o = this.resumeFrom(completenessKey, leader.logEndOffset, Math.max(leader.logStartOffset, 0));
      for (; o < end; o++) {
        const want = committed.get(o);
        if (want === undefined || want.epoch >= leader.leaderEpoch) continue;
        const have = o < leader.logEndOffset ? leader.recordAt(o) : undefined;
        if (have !== want.id) {
          this.report('leader-completeness', partition, atMs, o, `leader ${leader.broker} of ${partition} in epoch ${leader.leaderEpoch} lacks offset ${o}, committed in epoch ${want.epoch} (${have === undefined ? 'missing' : 'another record is there'})`, { broker: leader.broker, leaderEpoch: leader.leaderEpoch, offset: o, committed: want.id, committedInEpoch: want.epoch, found: have ?? null });
          break;
        }
      }
      this.verifiedUpTo.set(completenessKey, o);
      // Record what this leader has committed.
      for (let o = Math.max(end, leader.logStartOffset); o < leader.highWatermark; o++) {
        const id = leader.recordAt(o);
        if (id !== undefined && !committed.has(o)) committed.set(o, { id, epoch: leader.leaderEpoch });
      }
      if (leader.highWatermark > end) this.committedEnd.set(partition, leader.highWatermark);

      // strong-isr: each live ISR member holds the leader's log below the HW.
      for (const member of replicas) {
        if (member === leader || !leader.isr.includes(member.broker)) continue;
        const upTo = Math.min(leader.highWatermark, member.logEndOffset);
        if (member.logEndOffset < leader.highWatermark && member.logEndOffset < leader.logEndOffset) {
          // A member behind the HW is only possible if it lost data it had acknowledged.
          this.report('strong-isr', partition, atMs, member.logEndOffset, `broker ${member.broker} is in the ISR of ${partition} but its log ends at ${member.logEndOffset}, below the high watermark ${leader.highWatermark}`, { broker: member.broker, leader: leader.broker, memberLogEndOffset: member.logEndOffset, highWatermark: leader.highWatermark });
          continue;
        }
        const isrKey = `si/${key}/${member.broker}`;
        let o = this.resumeFrom(isrKey, Math.min(member.logEndOffset, leader.logEndOffset), Math.max(leader.logStartOffset, member.logStartOffset));
        for (; o < upTo; o++) {
          if (member.recordAt(o) !== leader.recordAt(o)) {
            this.report('strong-isr', partition, atMs, o, `broker ${member.broker} is in the ISR of ${partition} but differs from leader ${leader.broker} at offset ${o}, below the high watermark`, { broker: member.broker, leader: leader.broker, offset: o });
            break;
          }
        }
        this.verifiedUpTo.set(isrKey, o);
      }
    }
  }

  private checkLogMatching(partition: string, all: readonly ReplicaSnapshot[], atMs: number): void {
    const inSync = new Set<number>();
    for (const r of all) if (r.isLeader) for (const id of [r.broker, ...r.isr]) inSync.add(id);
    const replicas = all.filter((r) => inSync.has(r.broker));
    for (let i = 0; i < replicas.length; i++) {
      for (let j = i + 1; j < replicas.length; j++) {
        const a = replicas[i];
        const b = replicas[j];
        const upTo = Math.min(a.highWatermark, b.highWatermark, a.logEndOffset, b.logEndOffset);
        const pairKey = `lm/${partition}/${Math.min(a.broker, b.broker)}/${Math.max(a.broker, b.broker)}`;
        let o = this.resumeFrom(pairKey, Math.min(a.logEndOffset, b.logEndOffset), Math.max(a.logStartOffset, b.logStartOffset));
        for (; o < upTo; o++) {
          const ra = a.recordAt(o);
          const rb = b.recordAt(o);
          if (ra !== rb) {
            this.report('log-matching', partition, atMs, o, `brokers ${a.broker} and ${b.broker} hold different records at offset ${o} of ${partition}, below both high watermarks`, { brokers: [a.broker, b.broker], offset: o, records: [ra ?? null, rb ?? null] });
            break;
          }
        }
        this.verifiedUpTo.set(pairKey, o);
      }
    }
  }

  private report(check: string, partition: string, atMs: number, offset: number, message: string, evidence: Record<string, unknown>): void {
    const key = `${check}/${partition}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.violations.push({ check, atMs, partition, offset, message, evidence });
  }
}
