/**
 * Protocol switches (DESIGN.md): each is a fix Kafka added after a documented failure. All are
 * on by default, which is today's Kafka; turning one off brings the old behaviour back so the
 * failure it fixed can be reproduced. ../broker/REPLICATION.md §10 says exactly what "off" means.
 */
export interface ProtocolSwitches {
  /** KAFKA-1555: min.insync.replicas, NOT_ENOUGH_REPLICAS, HW held while ISR < min ISR. */
  readonly minIsrGuard: boolean;
  /** KIP-101: truncate by leader epoch, not to the high watermark. */
  readonly leaderEpochTruncation: boolean;
  /** KIP-279: the leader answers with the largest epoch ≤ the one asked, and its end offset. */
  readonly epochEndOffsetLookup: boolean;
  /** KIP-320: requests carry the leader epoch; stale ones are fenced; truncation is detected. */
  readonly fetchEpochFencing: boolean;
  /** KIP-966: eligible leader replicas and clean-shutdown tracking. */
  readonly eligibleLeaderReplicas: boolean;
  /** KIP-903: a stale broker epoch cannot rejoin the ISR. */
  readonly brokerEpochFencing: boolean;
  /** KIP-98: idempotent producer sequence numbers. */
  readonly idempotentProducer: boolean;
  /** KIP-429: cooperative rebalancing. */
  readonly cooperativeRebalance: boolean;
}

export const SWITCH_NAMES = [
  'minIsrGuard',
  'leaderEpochTruncation',
  'epochEndOffsetLookup',
  'fetchEpochFencing',
  'eligibleLeaderReplicas',
  'brokerEpochFencing',
  'idempotentProducer',
  'cooperativeRebalance',
] as const satisfies readonly (keyof ProtocolSwitches)[];

export const CURRENT_KAFKA: ProtocolSwitches = Object.freeze({
  minIsrGuard: true,
  leaderEpochTruncation: true,
  epochEndOffsetLookup: true,
  fetchEpochFencing: true,
  eligibleLeaderReplicas: true,
  brokerEpochFencing: true,
  idempotentProducer: true,
  cooperativeRebalance: true,
});
