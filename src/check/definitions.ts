/**
 * What each check means, in the words `kafkaesque explain` prints. Names and definitions follow
 * Jepsen's Kafka checker (jepsen.tests.kafka) and Kafka's own TLA+ specs and RaftEventSimulationTest
 * (DESIGN.md, "Checks"). `implemented` says whether this version reports it.
 */
export interface CheckDefinition {
  readonly name: string;
  readonly kind: 'history' | 'invariant' | 'liveness';
  readonly definition: string;
  /** When the check is not a bug in Kafka but an outcome the configuration permits. */
  readonly permittedWhen?: string;
  readonly implemented: boolean;
}

export const CHECKS: readonly CheckDefinition[] = [
  {
    name: 'lost-write',
    kind: 'history',
    definition:
      'A producer was told a record was written (an ok response, with its partition and offset), and after every fault has healed the partition\'s log does not hold it. The log read is the leader\'s; a partition left with no leader is unavailable, not lossy, so then every replica\'s log counts.',
    permittedWhen: 'acks=0 or acks=1, an unclean leader election, or no fsync with correlated power loss',
    implemented: true,
  },
  {
    name: 'log-matching',
    kind: 'invariant',
    definition:
      'Two replicas of a partition hold different records at an offset below both their high watermarks. Checked among each leader and the members of its ISR, whenever a broker records a protocol event; a follower outside the ISR may still hold a divergent tail it has not yet truncated.',
    permittedWhen: 'the KIP-101 or KIP-279 switches are off (that is the failure they fixed)',
    implemented: true,
  },
  {
    name: 'monotonic-high-watermark',
    kind: 'invariant',
    definition: 'A leader\'s high watermark went back within one leader epoch.',
    implemented: true,
  },
  {
    name: 'leader-completeness',
    kind: 'invariant',
    definition:
      'A leader lacks an offset that was committed (below some leader\'s high watermark) in an earlier leader epoch, or holds another record there.',
    permittedWhen: 'an unclean leader election, or correlated power loss without fsync',
    implemented: true,
  },
  {
    name: 'strong-isr',
    kind: 'invariant',
    definition:
      'A live member of the leader\'s ISR does not hold the leader\'s log below the high watermark: its log ends below it, or differs at an offset below it.',
    permittedWhen: 'the KIP-101 switch is off, or a replica lost unflushed data in a power loss',
    implemented: true,
  },
  {
    name: 'lost-unacknowledged-write',
    kind: 'history',
    definition: 'A record sent with acks=0 (counted as sent once on the socket, never acknowledged) is in no partition of its topic after healing.',
    permittedWhen: 'acks=0: Kafka promises nothing for such a record',
    implemented: true,
  },
  {
    name: 'duplicate',
    kind: 'history',
    definition: 'One value appears at two offsets of a partition\'s log after healing (values are unique per send, so the broker appended a retry twice).',
    permittedWhen: 'enable.idempotence=false (or acks other than all) with retries',
    implemented: true,
  },
  {
    name: 'inconsistent-offsets',
    kind: 'history',
    definition: 'Two different values were reported at one offset of a partition, by two acknowledgements (the offset was reused after a leader lost its tail) or by two reads.',
    permittedWhen: 'whenever lost-write is permitted',
    implemented: true,
  },
  {
    name: 'nonmonotonic-send',
    kind: 'history',
    definition: 'A producer\'s acknowledged sends to one partition are at offsets out of the order it sent them: a record sent later has a lower offset.',
    permittedWhen: 'enable.idempotence=false with max.in.flight.requests.per.connection > 1',
    implemented: true,
  },
  {
    name: 'poll-skip',
    kind: 'history',
    definition:
      'Between two consecutive polls of one consumer process, with no rebalance, position reset or restart between them, the second started past the offset after the first one\'s last record of a partition: offsets were never returned to it.',
    permittedWhen: 'the log lost records under the consumer (an unclean election, a protocol switch off, a power loss without fsync)',
    implemented: true,
  },
  {
    name: 'nonmonotonic-poll',
    kind: 'history',
    definition:
      'Between two consecutive polls of one consumer process, with no rebalance, position reset or restart between them, the second started at or before the first one\'s last offset of a partition: offsets read again or out of order.',
    permittedWhen: 'the fetchEpochFencing switch off (no KIP-320 truncation detection), or the log was truncated under the consumer',
    implemented: true,
  },
  {
    name: 'unseen',
    kind: 'liveness',
    definition:
      'After every fault healed and the liveness phase ran, an acknowledged record that the log still holds, at or after where a group started reading its partition, was never returned by a poll to any member of a group subscribed to its topic.',
    implemented: true,
  },
  {
    name: 'duplicate-processing',
    kind: 'history',
    definition: 'A consumer group\'s side effect for one record happened more than once: a member crashed or was evicted between processing and committing, and the next owner processed the record again.',
    permittedWhen: 'always: Kafka without transactions delivers at least once',
    implemented: true,
  },
  {
    name: 'lost-processing',
    kind: 'history',
    definition: 'A consumer group committed past a record, still in the log, that no member ever processed: the next owner starts at the commit, so its side effect never happens.',
    permittedWhen: 'enable.auto.commit with processing handed to another thread (processing.commit: async-processing)',
    implemented: true,
  },
  { name: 'single-leader-per-epoch', kind: 'invariant', definition: 'Two controllers were leader of the KRaft quorum in the same epoch (checked in the Raft simulation tests).', implemented: false },
  { name: 'consistent-committed-metadata', kind: 'invariant', definition: 'Two controllers disagree on a committed metadata offset (checked in the Raft simulation tests).', implemented: false },
  {
    name: 'no-double-assignment',
    kind: 'invariant',
    definition:
      'Within one consumer group and one generation, a partition was given to two members: two coordinators (or one coordinator twice) settled the same generation with different owners. A static member replaced within its generation hands its partitions over and does not count.',
    implemented: true,
  },
  {
    name: 'monotonic-committed-offsets',
    kind: 'invariant',
    definition:
      'A coordinator loading a group from its __consumer_offsets partition found a committed offset below the last commit it had acknowledged (or none), though the group never committed the lower one: an acknowledged commit was lost.',
    permittedWhen: 'offsets.topic.replication.factor=1 or an unclean election of a __consumer_offsets partition, or a correlated power loss without fsync',
    implemented: true,
  },
  { name: 'aborted-read', kind: 'history', definition: 'A consumer read a record of an aborted transaction (G1a).', implemented: false },
];
