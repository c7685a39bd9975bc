import type { PartitionState } from '../metadata/metadata-image.js';
import type { PartitionChangeRecord } from '../metadata/metadata-records.js';

export interface PartitionChangeOptions {
  /** The ISR the change aims for (e.g. the current ISR minus a fenced broker). */
  readonly targetIsr: readonly number[];
  /** Whether a replica may lead: active, and not the broker being removed. */
  readonly isAcceptableLeader: (brokerId: number) => boolean;
  /** `unclean.leader.election.enable` for the topic. */
  readonly uncleanAllowed: boolean;
  /** KIP-966: eligible leader replicas (the `eligibleLeaderReplicas` switch). */
  readonly elrEnabled: boolean;
  /** The topic's effective min.insync.replicas. */
  readonly minIsr: number;
  /** Replicas whose broker restarted without a clean shutdown (KIP-966). */
  readonly uncleanShutdownReplicas?: readonly number[];
  /** Election.PREFERRED: the first replica leads if it may (electPreferredLeader). */
  readonly preferred?: boolean;
}

export interface PartitionChangeResult {
  readonly record: PartitionChangeRecord | undefined;
  readonly unclean: boolean;
}

const sameSet = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x) => b.includes(x));
const minus = (a: readonly number[], b: readonly number[]) => a.filter((x) => !b.includes(x));

/**
 * PartitionChangeBuilder.build (metadata/.../controller/PartitionChangeBuilder.java; KRAFT.md
 * §8): the ELR, then the election, then the ISR. The current leader is kept while it is still
 * valid; otherwise the first ISR member in replica order that may lead; with an empty ISR, the
 * first ELR member; then the last known leader (unclean); then, if the topic allows it, any live
 * replica (unclean). Without ELR the ISR is never written empty: the last replica standing stays
 * in it while the partition has no leader. Returns undefined when nothing changes.
 */
export function buildPartitionChange(p: PartitionState, o: PartitionChangeOptions): PartitionChangeResult {
  const unclean = o.uncleanShutdownReplicas ?? [];
  let targetIsr = [...o.targetIsr];
  let targetElr = [...p.elr];
  // With useLastKnownLeaderInBalancedRecovery (Kafka's default), only the last leader is kept here.
  let targetLastKnownElr = [...p.lastKnownElr];

  if (o.elrEnabled) {
    // maybePopulateTargetElr: replicas leaving an ISR that is below min ISR become eligible.
    if (targetIsr.length >= o.minIsr) targetElr = [];
    else {
      const candidates = [...new Set([...targetElr, ...p.isr])];
      targetElr = minus(minus(candidates, targetIsr), unclean);
    }
  }

  const isValid = (r: number) => (targetIsr.includes(r) || (targetIsr.length === 0 && targetElr.includes(r))) && o.isAcceptableLeader(r);
  let leader = -1;
  let isUnclean = false;
  if (o.preferred === true && p.replicas.length > 0 && isValid(p.replicas[0])) leader = p.replicas[0];
  else if (p.leader >= 0 && isValid(p.leader)) leader = p.leader;
  else {
    const clean = p.replicas.find(isValid);
    if (clean !== undefined) leader = clean;
    else if (o.elrEnabled && targetIsr.length === 0 && targetElr.length === 0 && p.lastKnownElr.length === 1 && o.isAcceptableLeader(p.lastKnownElr[0])) {
      leader = p.lastKnownElr[0];
      isUnclean = true;
    } else if (o.uncleanAllowed) {
      const any = p.replicas.find(o.isAcceptableLeader);
      if (any !== undefined) {
        leader = any;
        isUnclean = true;
      }
    }
  }

  const record: { -readonly [K in keyof PartitionChangeRecord]: PartitionChangeRecord[K] } = { type: 'PartitionChangeRecord', topic: p.topic, partition: p.partition };
  let changed = false;
  if (leader !== p.leader) {
    record.leader = leader;
    changed = true;
    if (targetElr.includes(leader)) {
      targetIsr = [leader];
      targetElr = minus(targetElr, [leader]);
    }
    if (isUnclean) {
      record.isr = [leader];
      record.leaderRecovering = true;
    }
  }
  if (isUnclean || !o.elrEnabled) {
    targetElr = [];
    targetLastKnownElr = [];
  }
  if (!sameSet(targetElr, p.elr)) {
    record.elr = targetElr;
    changed = true;
  }
  if (record.isr === undefined && (targetIsr.length > 0 || o.elrEnabled) && !sameSet(targetIsr, p.isr)) {
    record.isr = targetIsr;
    changed = true;
  } else if (record.isr !== undefined && !sameSet(record.isr, p.isr)) changed = true;
  // maybeUpdateLastKnownLeader: remember who led when the ISR first empties; forget once led again.
  const finalIsr = record.isr ?? p.isr;
  if (o.elrEnabled && !isUnclean) {
    if (finalIsr.length === 0 && p.isr.length > 0 && p.leader >= 0) targetLastKnownElr = [p.leader];
    else if (leader >= 0) targetLastKnownElr = [];
  }
  if (!sameSet(targetLastKnownElr, p.lastKnownElr)) {
    record.lastKnownElr = targetLastKnownElr;
    changed = true;
  }
  return { record: changed ? record : undefined, unclean: isUnclean };
}
