import { z } from 'zod';
import { parseDuration } from './duration.js';
import { NEMESIS_KINDS } from '../faults/random-nemesis.js';

/**
 * The scenario file's schema, as far as the simulator models it today (the world layer: machines,
 * network and disks). Keys are Kafka's where Kafka has a name for the thing. The schema grows with
 * the Kafka model; unknown keys are refused with a suggestion, never ignored.
 */

const durationSchema = z.string({ error: 'expected a duration such as 500ms, 30s or 2m' }).transform((text, ctx) => {
  const us = parseDuration(text);
  if (us === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as 500ms, 30s or 2m, found ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return us;
});

const nonNegativeMs = z.number({ error: 'expected a number of milliseconds' }).finite().nonnegative();
const positiveMs = z.number({ error: 'expected a number of milliseconds' }).finite().positive();

const latencySchema = z.discriminatedUnion(
  'distribution',
  [
    z.strictObject({ distribution: z.literal('constant'), ms: nonNegativeMs }),
    z.strictObject({ distribution: z.literal('uniform'), minMs: nonNegativeMs, maxMs: nonNegativeMs }),
    z.strictObject({ distribution: z.literal('exponential'), meanMs: nonNegativeMs, minMs: nonNegativeMs.optional() }),
    z.strictObject({ distribution: z.literal('normal'), meanMs: nonNegativeMs, stdDevMs: nonNegativeMs, minMs: nonNegativeMs.optional() }),
    z.strictObject({ distribution: z.literal('lognormal'), medianMs: positiveMs, sigma: z.number().finite().nonnegative(), minMs: nonNegativeMs.optional() }),
    z.strictObject({ distribution: z.literal('pareto'), scaleMs: positiveMs, shape: z.number().finite().positive() }),
  ],
  { error: 'expected a latency with distribution constant, uniform, exponential, normal, lognormal or pareto' },
);

const rate = z.number({ error: 'expected a probability between 0 and 1' }).min(0).max(1);

const positiveInt = z.number({ error: 'expected a positive integer' }).int().min(1);
const nonNegativeInt = z.number({ error: 'expected a non-negative integer' }).int().min(0);
const boolean = z.boolean({ error: 'expected true or false' });

/**
 * Broker and controller config keys the model honours, with Kafka's names and units
 * (ReplicationConfigs, ServerLogConfigs, KRaftConfigs). Defaults are Kafka 4.x's.
 */
const brokerConfigSchema = z.strictObject({
  // Kafka's default is Long.MAX_VALUE: never fsync on a message count (ServerLogConfigs).
  'log.flush.interval.messages': positiveInt.optional(),
  'min.insync.replicas': positiveInt.optional(),
  'unclean.leader.election.enable': boolean.optional(),
  'replica.lag.time.max.ms': positiveInt.optional(),
  'replica.fetch.wait.max.ms': nonNegativeInt.optional(),
  'replica.fetch.min.bytes': positiveInt.optional(),
  'replica.fetch.max.bytes': positiveInt.optional(),
  'replica.fetch.backoff.ms': nonNegativeInt.optional(),
  'replica.socket.timeout.ms': positiveInt.optional(),
  'replica.high.watermark.checkpoint.interval.ms': positiveInt.optional(),
  'log.flush.offset.checkpoint.interval.ms': positiveInt.optional(),
  'log.retention.check.interval.ms': positiveInt.optional(),
  'log.segment.bytes': positiveInt.optional(),
  'log.roll.ms': positiveInt.optional(),
  'log.retention.ms': z.number().int().min(-1).optional(),
  'log.retention.bytes': z.number().int().min(-1).optional(),
  'message.max.bytes': positiveInt.optional(),
  'broker.heartbeat.interval.ms': positiveInt.optional(),
  'broker.session.timeout.ms': positiveInt.optional(),
  'request.timeout.ms': positiveInt.optional(),
  'auto.leader.rebalance.enable': boolean.optional(),
  'leader.imbalance.check.interval.seconds': positiveInt.optional(),
  // The group coordinator (GroupCoordinatorConfig).
  'group.initial.rebalance.delay.ms': nonNegativeInt.optional(),
  'group.min.session.timeout.ms': positiveInt.optional(),
  'group.max.session.timeout.ms': positiveInt.optional(),
  'group.max.size': positiveInt.optional(),
  'offsets.topic.num.partitions': positiveInt.optional(),
  'offsets.topic.replication.factor': positiveInt.optional(),
  'offsets.commit.timeout.ms': positiveInt.optional(),
});

/** Topic-level configs (TopicConfig.java) the model honours. */
const topicConfigSchema = z.strictObject({
  'min.insync.replicas': positiveInt.optional(),
  'unclean.leader.election.enable': boolean.optional(),
  'segment.bytes': positiveInt.optional(),
  'segment.ms': positiveInt.optional(),
  'retention.ms': z.number().int().min(-1).optional(),
  'retention.bytes': z.number().int().min(-1).optional(),
  'flush.messages': positiveInt.optional(),
  'max.message.bytes': positiveInt.optional(),
});

const topicSchema = z.strictObject({
  name: z.string({ error: 'expected a topic name' }).regex(/^[A-Za-z0-9._-]{1,249}$/, 'expected a topic name of letters, digits, ".", "_" and "-" (Kafka\'s legal characters)'),
  partitions: positiveInt.max(10_000),
  'replication.factor': positiveInt.max(64),
  config: topicConfigSchema.optional(),
});

/** `500/s`: a rate in records per second. */
const rateText = z.string({ error: 'expected a rate such as 500/s' }).transform((text, ctx) => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*s\s*$/.exec(text);
  if (m === null || Number(m[1]) <= 0) {
    ctx.addIssue({ code: 'custom', message: `expected a positive rate such as 500/s, found ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return Number(m[1]);
});

const rateSchema = z.union(
  [
    rateText.transform((perSec) => ({ kind: 'constant' as const, perSec })),
    z.strictObject({ poisson: rateText }).transform((r) => ({ kind: 'poisson' as const, perSec: r.poisson })),
    z.strictObject({ bursts: rateText, on: durationSchema, off: durationSchema }).transform((r) => ({ kind: 'bursts' as const, perSec: r.bursts, onMs: r.on / 1000, offMs: r.off / 1000 })),
  ],
  { error: 'expected a rate: 500/s, { poisson: 500/s } or { bursts: 500/s, on: 1s, off: 2s }' },
);

const keysSchema = z.union(
  [
    z.literal('none').transform(() => ({ kind: 'none' as const })),
    positiveInt.transform((count) => ({ kind: 'uniform' as const, count })),
    z.strictObject({ zipf: z.number().positive(), count: positiveInt }).transform((k) => ({ kind: 'zipf' as const, count: k.count, s: k.zipf })),
  ],
  { error: 'expected keys: none, a number of keys, or { zipf: 1.1, count: 100 }' },
);

const producerSchema = z.strictObject({
  count: positiveInt.max(100).optional(),
  topic: z.string({ error: 'expected a topic name' }),
  rate: rateSchema,
  keys: keysSchema.optional(),
  valueBytes: positiveInt.max(1_048_576).optional(),
  start: durationSchema.optional(),
  stop: durationSchema.optional(),
  /** Kafka's producer configs, validated by the producer's own rules (ProducerConfig). */
  config: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

/**
 * A consumer group's members: `count` KafkaConsumers subscribed to `topics`, each running the
 * application loop `processing` describes (kafkaesque options, outside Kafka's config).
 */
const consumerSchema = z.strictObject({
  group: z.string({ error: 'expected a group id' }).regex(/^[A-Za-z0-9._-]+$/, 'expected a group id of letters, digits, ., _ and -'),
  count: positiveInt.max(100).optional(),
  topics: z.array(z.string({ error: 'expected a topic name' })).min(1, 'expected at least one topic'),
  /** When the consumers start (default: at once). */
  start: durationSchema.optional(),
  /** Kafka's consumer configs, validated by the consumer's own rules (ConsumerConfig); group.id comes from `group`. */
  config: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).optional(),
  processing: z
    .strictObject({
      /** Processing time per record. */
      ms: nonNegativeMs.max(3_600_000).optional(),
      /** When offsets are committed: auto (enable.auto.commit), sync-after-processing, async-after-processing, none, or async-processing (a worker processes while auto-commit runs). */
      commit: z.enum(['auto', 'sync-after-processing', 'async-after-processing', 'none', 'async-processing'], { error: 'expected auto, sync-after-processing, async-after-processing, none or async-processing' }).optional(),
      /** The application freezes (heartbeats go on, poll() is not called): a slow or stuck consumer. */
      stall: z.strictObject({ at: durationSchema, for: durationSchema }).optional(),
    })
    .optional(),
});

/** The protocol switches (DESIGN.md): all on by default, today's Kafka. */
const protocolSchema = z.strictObject({
  minIsrGuard: boolean.optional(),
  leaderEpochTruncation: boolean.optional(),
  epochEndOffsetLookup: boolean.optional(),
  fetchEpochFencing: boolean.optional(),
  eligibleLeaderReplicas: boolean.optional(),
  brokerEpochFencing: boolean.optional(),
  idempotentProducer: boolean.optional(),
  cooperativeRebalance: boolean.optional(),
  preVote: boolean.optional(),
});

/**
 * A fault target: a broker id, every broker, the active controller, or a partition's leader or
 * a follower as they are when the fault fires: `leader(orders-0)`, `follower(orders-0)`; or a
 * consumer: `consumer(billing)` is the group's first consumer, `consumer(billing/2)` its second.
 */
const targetSchema = z.union(
  [
    z.number().int().nonnegative(),
    z.literal('all-brokers'),
    z.literal('controller'),
    z.string().regex(/^(leader|follower)\([A-Za-z0-9._-]+-\d+\)$/),
    z.string().regex(/^consumer\([A-Za-z0-9._-]+(\/\d+)?\)$/),
  ],
  { error: 'expected a broker id, all-brokers, controller, leader(topic-p), follower(topic-p) or consumer(group) / consumer(group/n)' },
);

export const FAULT_ACTIONS = ['crash', 'restart', 'kill', 'shutdown', 'power-loss', 'pause', 'resume', 'isolate', 'partition', 'heal'] as const;

/**
 * A member of a partition group: a target as above, or a whole role: `controllers`,
 * `producers`, `brokers`, or `others` (every node named in no other group).
 */
const groupMemberSchema = z.union([targetSchema, z.enum(['controllers', 'producers', 'consumers', 'brokers', 'others'])], {
  error: 'expected a broker id, leader(topic-p), follower(topic-p), consumer(group), controller, controllers, producers, consumers, brokers or others',
});
export type FaultAction = (typeof FAULT_ACTIONS)[number];

const faultSchema = z
  .strictObject({
    at: durationSchema,
    for: durationSchema.optional(),
    crash: targetSchema.optional(),
    restart: targetSchema.optional(),
    kill: targetSchema.optional(),
    /** SIGTERM: a broker's controlled shutdown (leaderships move first); restarted after `for`. */
    shutdown: targetSchema.optional(),
    'power-loss': targetSchema.optional(),
    pause: targetSchema.optional(),
    resume: targetSchema.optional(),
    isolate: targetSchema.optional(),
    /** Nodes in different groups cannot talk (Jepsen's partition): `[[leader(orders-0), producers], [others]]`. */
    partition: z.array(z.array(groupMemberSchema).min(1)).min(2).optional(),
    heal: z.literal('all', { error: 'expected all' }).optional(),
  })
  .superRefine((fault, ctx) => {
    const actions = FAULT_ACTIONS.filter((a) => fault[a] !== undefined);
    if (actions.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          actions.length === 0
            ? `expected one fault action: ${FAULT_ACTIONS.join(', ')}`
            : `expected one fault action per entry, found ${actions.join(' and ')}`,
      });
    }
  });

/**
 * `nemesis:`: the random faults `kafkaesque check` draws for each seed, on top of the scripted
 * `faults:` (`run` ignores it). Each seed turns on a random subset of `kinds` and picks its own
 * intensity (swarm testing); see src/faults/random-nemesis.ts.
 */
const nemesisSchema = z.strictObject({
  kinds: z.array(z.enum(NEMESIS_KINDS, { error: `expected a fault kind: ${NEMESIS_KINDS.join(', ')}` })).min(1, 'expected at least one fault kind').optional(),
  meanIntervalMs: positiveMs.max(86_400_000).optional(),
  maxFaults: nonNegativeInt.max(1_000).optional(),
  maxDurationMs: positiveMs.max(86_400_000).optional(),
  window: z.strictObject({ start: durationSchema.optional(), stop: durationSchema.optional() }).optional(),
});

/** The checks a run performs, by their Jepsen and Kafka names (`kafkaesque explain <check>`). */
export const CHECK_NAMES = [
  'lost-write',
  'lost-unacknowledged-write',
  'duplicate',
  'nonmonotonic-send',
  'inconsistent-offsets',
  'log-matching',
  'monotonic-high-watermark',
  'leader-completeness',
  'strong-isr',
  'no-double-assignment',
  'monotonic-committed-offsets',
  'nonmonotonic-poll',
  'poll-skip',
  'duplicate-processing',
  'lost-processing',
  'unseen',
] as const;

export const scenarioSchema = z.strictObject({
  name: z.string({ error: 'expected a name' }).min(1, 'expected a non-empty name'),
  description: z.string().optional(),
  notes: z.string().optional(),
  seed: z.union([z.number().int().safe(), z.string().min(1)], { error: 'expected an integer or a string' }).optional(),
  duration: durationSchema.optional(),
  cluster: z.strictObject({
    brokers: z.number({ error: 'expected a number of brokers' }).int().min(1).max(64),
    controllers: z.number({ error: 'expected a number of controllers' }).int().min(1).max(9).optional(),
    racks: z.array(z.string().min(1)).min(1).optional(),
    config: brokerConfigSchema.optional(),
  }),
  topics: z.array(topicSchema).optional(),
  producers: z.array(producerSchema).optional(),
  consumers: z.array(consumerSchema).optional(),
  protocol: protocolSchema.optional(),
  network: z
    .strictObject({
      latency: latencySchema.optional(),
      lossRate: rate.optional(),
      duplicateRate: rate.optional(),
    })
    .optional(),
  disk: z
    .strictObject({
      writeMs: nonNegativeMs.optional(),
      fsyncMs: nonNegativeMs.optional(),
      tornWrites: z.boolean().optional(),
      // Linux's page-cache writeback, under its sysctl names: dirty data older than
      // vm.dirty_expire_centisecs is written back by a flusher waking every vm.dirty_writeback_centisecs.
      'vm.dirty_expire_centisecs': z.number().int().min(1).optional(),
      'vm.dirty_writeback_centisecs': z.number().int().min(1).optional(),
    })
    .optional(),
  faults: z.array(faultSchema).optional(),
  nemesis: nemesisSchema.optional(),
  expect: z.array(z.enum(CHECK_NAMES, { error: `expected a check name: ${CHECK_NAMES.join(', ')}` })).optional(),
  /** Checks that may be found without failing the run: anomalies the configuration permits that only some seeds show. */
  allow: z.array(z.enum(CHECK_NAMES, { error: `expected a check name: ${CHECK_NAMES.join(', ')}` })).optional(),
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ParsedScenario = z.output<typeof scenarioSchema>;
export type ParsedFault = NonNullable<ParsedScenario['faults']>[number];
export type ParsedTopic = NonNullable<ParsedScenario['topics']>[number];
export type ParsedProducer = NonNullable<ParsedScenario['producers']>[number];
export type ParsedConsumer = NonNullable<ParsedScenario['consumers']>[number];
export type ParsedNemesis = NonNullable<ParsedScenario['nemesis']>;
