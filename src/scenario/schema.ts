import { z } from 'zod';
import { parseDuration } from './duration.js';

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

/** Broker config keys the world model honours today (Kafka's names and units). */
export const BROKER_CONFIG_KEYS = ['log.flush.interval.messages'] as const;

const brokerConfigSchema = z.strictObject({
  // Kafka's default is Long.MAX_VALUE: never fsync on a message count (ServerLogConfigs).
  'log.flush.interval.messages': z.number().int().min(1).optional(),
});

/** A fault target: a broker id, or every broker. */
const targetSchema = z.union([z.number().int().nonnegative(), z.literal('all-brokers')], {
  error: 'expected a broker id or all-brokers',
});

export const FAULT_ACTIONS = ['crash', 'restart', 'kill', 'power-loss', 'pause', 'resume', 'isolate', 'heal'] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];

const faultSchema = z
  .strictObject({
    at: durationSchema,
    for: durationSchema.optional(),
    crash: targetSchema.optional(),
    restart: targetSchema.optional(),
    kill: targetSchema.optional(),
    'power-loss': targetSchema.optional(),
    pause: targetSchema.optional(),
    resume: targetSchema.optional(),
    isolate: targetSchema.optional(),
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

export const CHECK_NAMES = ['lost-write'] as const;

export const scenarioSchema = z.strictObject({
  name: z.string({ error: 'expected a name' }).min(1, 'expected a non-empty name'),
  description: z.string().optional(),
  notes: z.string().optional(),
  seed: z.union([z.number().int().safe(), z.string().min(1)], { error: 'expected an integer or a string' }).optional(),
  duration: durationSchema.optional(),
  cluster: z.strictObject({
    brokers: z.number({ error: 'expected a number of brokers' }).int().min(1).max(64),
    racks: z.array(z.string().min(1)).min(1).optional(),
    config: brokerConfigSchema.optional(),
  }),
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
  expect: z.array(z.enum(CHECK_NAMES, { error: `expected a check name: ${CHECK_NAMES.join(', ')}` })).optional(),
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ParsedScenario = z.output<typeof scenarioSchema>;
export type ParsedFault = NonNullable<ParsedScenario['faults']>[number];
