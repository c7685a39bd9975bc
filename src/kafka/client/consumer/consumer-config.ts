/**
 * The consumer's configuration: Kafka's names, types, validators and 4.x defaults.
 *
 * Sources (apache/kafka):
 * - clients/src/main/java/org/apache/kafka/clients/consumer/ConsumerConfig.java: the ConfigDef
 *   (defaults and validators), `maybeOverrideEnableAutoCommit` (no group.id ⇒ no auto-commit);
 * - clients/src/main/java/org/apache/kafka/clients/consumer/internals/Heartbeat.java: the
 *   heartbeat must be lower than the session timeout;
 * - clients/src/main/java/org/apache/kafka/common/requests/JoinGroupRequest.java:
 *   `validateGroupInstanceId`;
 * - clients/src/main/java/org/apache/kafka/clients/consumer/ConsumerPartitionAssignor.java:
 *   `getAssignorInstances` (partition.assignment.strategy is a list of class names).
 */
import { ASSIGNMENT_STRATEGIES, type AssignmentStrategy } from './assignors/types.js';
import { ConfigException } from '../producer/producer-config.js';

export { ConfigException };

export type AutoOffsetReset = 'earliest' | 'latest' | 'none';

/** The effective configuration, after validation. */
export interface ConsumerConfig {
  readonly 'group.id': string | null;
  readonly 'group.instance.id': string | null;
  readonly 'client.id': string;
  readonly 'partition.assignment.strategy': readonly AssignmentStrategy[];
  readonly 'session.timeout.ms': number;
  readonly 'heartbeat.interval.ms': number;
  readonly 'max.poll.interval.ms': number;
  readonly 'max.poll.records': number;
  readonly 'auto.offset.reset': AutoOffsetReset;
  readonly 'enable.auto.commit': boolean;
  readonly 'auto.commit.interval.ms': number;
  readonly 'fetch.min.bytes': number;
  readonly 'fetch.max.wait.ms': number;
  readonly 'fetch.max.bytes': number;
  readonly 'max.partition.fetch.bytes': number;
  readonly 'request.timeout.ms': number;
  readonly 'default.api.timeout.ms': number;
  readonly 'retry.backoff.ms': number;
  readonly 'retry.backoff.max.ms': number;
  readonly 'reconnect.backoff.ms': number;
  readonly 'reconnect.backoff.max.ms': number;
  readonly 'metadata.max.age.ms': number;
  readonly 'isolation.level': 'read_uncommitted';
}

export type ConsumerConfigKey = keyof ConsumerConfig;

/** What a user writes: any subset of the keys, as YAML or code gives them. */
export type ConsumerConfigInput = Readonly<Partial<Record<ConsumerConfigKey, string | number | boolean | null | readonly string[]>>>;

const INT_MAX = 2_147_483_647;
const LONG_MAX = Number.MAX_SAFE_INTEGER;

/** Kafka 4.x defaults (ConsumerConfig's ConfigDef; CommonClientConfigs for the backoffs). */
export const DEFAULT_CONSUMER_CONFIG: ConsumerConfig = Object.freeze({
  'group.id': null,
  'group.instance.id': null,
  'client.id': '',
  // Kafka 4.x: [RangeAssignor.class, CooperativeStickyAssignor.class].
  'partition.assignment.strategy': Object.freeze(['range', 'cooperative-sticky'] as AssignmentStrategy[]),
  'session.timeout.ms': 45_000,
  'heartbeat.interval.ms': 3_000,
  'max.poll.interval.ms': 300_000,
  'max.poll.records': 500,
  'auto.offset.reset': 'latest',
  'enable.auto.commit': true,
  'auto.commit.interval.ms': 5_000,
  'fetch.min.bytes': 1,
  'fetch.max.wait.ms': 500,
  'fetch.max.bytes': 52_428_800,
  'max.partition.fetch.bytes': 1_048_576,
  'request.timeout.ms': 30_000,
  'default.api.timeout.ms': 60_000,
  'retry.backoff.ms': 100,
  'retry.backoff.max.ms': 1_000,
  'reconnect.backoff.ms': 50,
  'reconnect.backoff.max.ms': 1_000,
  'metadata.max.age.ms': 300_000,
  'isolation.level': 'read_uncommitted',
});

/** The assignors' class names, as Kafka users write them in partition.assignment.strategy. */
export const ASSIGNOR_CLASS_NAMES: Readonly<Record<string, AssignmentStrategy>> = Object.freeze({
  'org.apache.kafka.clients.consumer.RangeAssignor': 'range',
  'org.apache.kafka.clients.consumer.RoundRobinAssignor': 'roundrobin',
  'org.apache.kafka.clients.consumer.StickyAssignor': 'sticky',
  'org.apache.kafka.clients.consumer.CooperativeStickyAssignor': 'cooperative-sticky',
  RangeAssignor: 'range',
  RoundRobinAssignor: 'roundrobin',
  StickyAssignor: 'sticky',
  CooperativeStickyAssignor: 'cooperative-sticky',
});

type Kind =
  | { type: 'int' | 'long'; min: number; max: number }
  | { type: 'boolean' }
  | { type: 'string' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'assignors' };

/** Each key's ConfigDef type and validator. */
const DEFINITIONS: readonly (readonly [ConsumerConfigKey, Kind])[] = [
  ['group.id', { type: 'string' }],
  ['group.instance.id', { type: 'string' }],
  ['client.id', { type: 'string' }],
  ['partition.assignment.strategy', { type: 'assignors' }],
  ['session.timeout.ms', { type: 'int', min: -INT_MAX - 1, max: INT_MAX }],
  ['heartbeat.interval.ms', { type: 'int', min: -INT_MAX - 1, max: INT_MAX }],
  ['max.poll.interval.ms', { type: 'int', min: 1, max: INT_MAX }],
  ['max.poll.records', { type: 'int', min: 1, max: INT_MAX }],
  ['auto.offset.reset', { type: 'enum', values: ['latest', 'earliest', 'none'] }],
  ['enable.auto.commit', { type: 'boolean' }],
  ['auto.commit.interval.ms', { type: 'int', min: 0, max: INT_MAX }],
  ['fetch.min.bytes', { type: 'int', min: 0, max: INT_MAX }],
  ['fetch.max.wait.ms', { type: 'int', min: 0, max: INT_MAX }],
  ['fetch.max.bytes', { type: 'int', min: 0, max: INT_MAX }],
  ['max.partition.fetch.bytes', { type: 'int', min: 0, max: INT_MAX }],
  ['request.timeout.ms', { type: 'int', min: 0, max: INT_MAX }],
  ['default.api.timeout.ms', { type: 'int', min: 0, max: INT_MAX }],
  ['retry.backoff.ms', { type: 'long', min: 0, max: LONG_MAX }],
  ['retry.backoff.max.ms', { type: 'long', min: 0, max: LONG_MAX }],
  ['reconnect.backoff.ms', { type: 'long', min: 0, max: LONG_MAX }],
  ['reconnect.backoff.max.ms', { type: 'long', min: 0, max: LONG_MAX }],
  ['metadata.max.age.ms', { type: 'long', min: 0, max: LONG_MAX }],
  ['isolation.level', { type: 'enum', values: ['read_committed', 'read_uncommitted'] }],
];

const KNOWN = new Set<string>(DEFINITIONS.map(([name]) => name));

/**
 * Validates a user's consumer config. Throws a ConfigException with Kafka's message for the first
 * problem: each value against its validator, then the rules between keys.
 */
export function parseConsumerConfig(input: ConsumerConfigInput = {}): ConsumerConfig {
  if (input === null || typeof input !== 'object') throw new ConfigException(`The consumer config must be an object, got ${String(input)}`);
  for (const name of Object.keys(input)) {
    // Kafka only warns about unused keys; a misspelt key silently ignored would run another experiment.
    if (!KNOWN.has(name)) throw new ConfigException(`Unknown consumer configuration ${name}; known: ${[...KNOWN].sort().join(', ')}`);
  }
  const values: Record<string, unknown> = { ...DEFAULT_CONSUMER_CONFIG };
  for (const [name, kind] of DEFINITIONS) {
    const raw = input[name];
    if (raw !== undefined) values[name] = parseValue(name, raw, kind);
  }
  if (values['isolation.level'] === 'read_committed') {
    throw new ConfigException('isolation.level=read_committed is not supported: transactions are not modelled yet (use read_uncommitted)');
  }
  // JoinGroupRequest.validateGroupInstanceId.
  const instanceId = values['group.instance.id'];
  if (instanceId === '') throw new ConfigException('Group instance id must be non-empty string');
  // ConsumerConfig.maybeOverrideEnableAutoCommit: without a group id there is nothing to commit to.
  if (values['group.id'] === null) {
    if (input['enable.auto.commit'] !== undefined && values['enable.auto.commit'] === true) {
      throw new ConfigException('enable.auto.commit cannot be set to true when default group id (null) is used.');
    }
    values['enable.auto.commit'] = false;
  }
  // Heartbeat's constructor (IllegalArgumentException in Kafka).
  if ((values['heartbeat.interval.ms'] as number) >= (values['session.timeout.ms'] as number)) {
    throw new ConfigException('Heartbeat must be set lower than the session timeout');
  }
  return Object.freeze(values) as unknown as ConsumerConfig;
}

function parseValue(name: ConsumerConfigKey, raw: unknown, kind: Kind): unknown {
  switch (kind.type) {
    case 'string':
      if (raw === null) return null;
      if (typeof raw !== 'string' && typeof raw !== 'number') throw ConfigException.invalid(name, raw, 'Expected value to be a string');
      return String(raw);
    case 'enum': {
      // Type.STRING with ValidString.in(...), case-insensitive for auto.offset.reset and isolation.level.
      const s = String(raw).trim().toLowerCase();
      if (!kind.values.includes(s)) throw ConfigException.invalid(name, raw, `String must be one of: ${kind.values.join(', ')}`);
      return s;
    }
    case 'assignors':
      return parseAssignors(name, raw);
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).trim().toLowerCase();
      if (s === 'true' || s === 'false') return s === 'true';
      throw ConfigException.invalid(name, raw, 'Expected value to be either true or false');
    }
    default: {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw.trim()) : NaN;
      if (!Number.isInteger(n)) throw ConfigException.invalid(name, raw, `Not a number of type ${kind.type.toUpperCase()}`);
      if (n < kind.min) throw ConfigException.invalid(name, raw, `Value must be at least ${kind.min}`);
      if (n > kind.max) throw ConfigException.invalid(name, raw, `Value must be no more than ${kind.max}`);
      return n;
    }
  }
}

/**
 * Type.LIST: a list or a comma-separated string. Each entry is an assignor's simple name
 * (`range`, `roundrobin`, `sticky`, `cooperative-sticky`) or its Kafka class name.
 */
function parseAssignors(name: string, raw: unknown): AssignmentStrategy[] {
  const items = Array.isArray(raw) ? raw.map((x) => String(x)) : typeof raw === 'string' ? raw.split(',') : null;
  if (items === null) throw ConfigException.invalid(name, raw, 'Expected a comma separated list.');
  const out: AssignmentStrategy[] = [];
  for (const item of items.map((s) => s.trim()).filter((s) => s.length > 0)) {
    const strategy = (ASSIGNMENT_STRATEGIES as readonly string[]).includes(item) ? (item as AssignmentStrategy) : ASSIGNOR_CLASS_NAMES[item];
    // ConsumerPartitionAssignor.getAssignorInstances: an unknown class is a ClassNotFoundException.
    if (strategy === undefined) throw ConfigException.invalid(name, item, `Class ${item} cannot be found`);
    if (out.includes(strategy)) {
      throw new ConfigException(`The assignor name: '${strategy}' is used in more than one assignor: ${items.join(', ')}`);
    }
    out.push(strategy);
  }
  return out;
}

/**
 * ConsumerPartitionAssignor.RebalanceProtocol supported by each assignor
 * (`supportedProtocols()`): only CooperativeStickyAssignor supports COOPERATIVE.
 */
export function supportedProtocols(strategy: AssignmentStrategy): readonly RebalanceProtocol[] {
  return strategy === 'cooperative-sticky' ? ['EAGER', 'COOPERATIVE'] : ['EAGER'];
}

export type RebalanceProtocol = 'EAGER' | 'COOPERATIVE';

/**
 * ConsumerCoordinator's constructor: the protocol is the highest one every configured assignor
 * supports (`Collections.max` of the intersection). The default [range, cooperative-sticky]
 * is therefore EAGER; [cooperative-sticky] alone is COOPERATIVE.
 */
export function rebalanceProtocol(strategies: readonly AssignmentStrategy[]): RebalanceProtocol {
  if (strategies.length === 0) return 'EAGER';
  const common = strategies.map(supportedProtocols).reduce((a, b) => a.filter((p) => b.includes(p)));
  if (common.length === 0) {
    // ConsumerCoordinator: "Specified assignors ... do not have commonly supported rebalance protocol configured".
    throw new ConfigException(`Specified assignors ${JSON.stringify(strategies)} do not have commonly supported rebalance protocol configured in partition.assignment.strategy`);
  }
  return common.includes('COOPERATIVE') ? 'COOPERATIVE' : 'EAGER';
}
