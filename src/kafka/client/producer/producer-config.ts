/**
 * The producer's configuration: Kafka's names, types, validators and 4.x defaults, and the rules
 * that tie idempotence to acks, retries and max.in.flight.requests.per.connection.
 *
 * Sources (apache/kafka):
 * - clients/src/main/java/org/apache/kafka/clients/producer/ProducerConfig.java: the ConfigDef
 *   (defaults and validators) and `postProcessAndValidateIdempotenceConfigs`;
 * - clients/src/main/java/org/apache/kafka/common/config/ConfigDef.java: the validator messages
 *   (Range.atLeast, Range.between, ValidString.in) inside ConfigException(name, value, message);
 * - clients/src/main/java/org/apache/kafka/clients/producer/KafkaProducer.java:
 *   `configureDeliveryTimeout`.
 */
import type { Acks } from '../../protocol/messages.js';

/**
 * Kafka's ConfigException. Its message is Kafka's: either free text, or, for a value a validator
 * refused, "Invalid value <value> for configuration <name>: <reason>".
 */
export class ConfigException extends Error {
  override readonly name = 'ConfigException';

  static invalid(name: string, value: unknown, reason?: string): ConfigException {
    return new ConfigException(`Invalid value ${String(value)} for configuration ${name}${reason === undefined ? '' : `: ${reason}`}`);
  }
}

/** The effective configuration, after validation and the idempotence rules. */
export interface ProducerConfig {
  /** -1 for `all`. */
  readonly acks: Acks;
  /** Whether idempotence is on after Kafka's rules (it may be silently disabled). */
  readonly 'enable.idempotence': boolean;
  readonly 'linger.ms': number;
  readonly 'batch.size': number;
  readonly 'buffer.memory': number;
  readonly 'max.block.ms': number;
  readonly 'max.in.flight.requests.per.connection': number;
  readonly 'max.request.size': number;
  readonly retries: number;
  readonly 'retry.backoff.ms': number;
  readonly 'retry.backoff.max.ms': number;
  readonly 'delivery.timeout.ms': number;
  readonly 'request.timeout.ms': number;
  readonly 'metadata.max.age.ms': number;
  readonly 'reconnect.backoff.ms': number;
  readonly 'reconnect.backoff.max.ms': number;
  readonly 'partitioner.ignore.keys': boolean;
  readonly 'partitioner.adaptive.partitioning.enable': boolean;
  readonly 'partitioner.availability.timeout.ms': number;
}

export type ProducerConfigKey = keyof ProducerConfig;

/** What a user writes: any subset of the keys, as YAML or code gives them (`acks: all`, `"1"`, 1). */
export type ProducerConfigInput = Readonly<Partial<Record<ProducerConfigKey, string | number | boolean>>>;

const INT_MAX = 2_147_483_647;
const LONG_MAX = Number.MAX_SAFE_INTEGER;

/** ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION_FOR_IDEMPOTENCE. */
export const MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION_FOR_IDEMPOTENCE = 5;

/** Kafka 4.x defaults (ProducerConfig's ConfigDef; CommonClientConfigs for the backoffs). */
export const DEFAULT_PRODUCER_CONFIG: ProducerConfig = Object.freeze({
  acks: -1,
  'enable.idempotence': true,
  'linger.ms': 5,
  'batch.size': 16_384,
  'buffer.memory': 33_554_432,
  'max.block.ms': 60_000,
  'max.in.flight.requests.per.connection': 5,
  'max.request.size': 1_048_576,
  retries: INT_MAX,
  'retry.backoff.ms': 100,
  'retry.backoff.max.ms': 1_000,
  'delivery.timeout.ms': 120_000,
  'request.timeout.ms': 30_000,
  'metadata.max.age.ms': 300_000,
  'reconnect.backoff.ms': 50,
  'reconnect.backoff.max.ms': 1_000,
  'partitioner.ignore.keys': false,
  'partitioner.adaptive.partitioning.enable': true,
  'partitioner.availability.timeout.ms': 0,
});

type Kind = { type: 'int' | 'long'; min: number; max: number } | { type: 'boolean' } | { type: 'acks' };

/** Each key's ConfigDef type and validator, in ProducerConfig's definition order. */
const DEFINITIONS: readonly (readonly [ProducerConfigKey, Kind])[] = [
  ['buffer.memory', { type: 'long', min: 0, max: LONG_MAX }],
  ['retries', { type: 'int', min: 0, max: INT_MAX }],
  ['acks', { type: 'acks' }],
  ['batch.size', { type: 'int', min: 0, max: INT_MAX }],
  ['partitioner.adaptive.partitioning.enable', { type: 'boolean' }],
  ['partitioner.availability.timeout.ms', { type: 'long', min: 0, max: LONG_MAX }],
  ['partitioner.ignore.keys', { type: 'boolean' }],
  ['linger.ms', { type: 'long', min: 0, max: LONG_MAX }],
  ['delivery.timeout.ms', { type: 'int', min: 0, max: INT_MAX }],
  ['max.request.size', { type: 'int', min: 0, max: INT_MAX }],
  ['reconnect.backoff.ms', { type: 'long', min: 0, max: LONG_MAX }],
  ['reconnect.backoff.max.ms', { type: 'long', min: 0, max: LONG_MAX }],
  ['retry.backoff.ms', { type: 'long', min: 0, max: LONG_MAX }],
  ['retry.backoff.max.ms', { type: 'long', min: 0, max: LONG_MAX }],
  ['max.block.ms', { type: 'long', min: 0, max: LONG_MAX }],
  ['request.timeout.ms', { type: 'int', min: 0, max: INT_MAX }],
  ['metadata.max.age.ms', { type: 'long', min: 0, max: LONG_MAX }],
  ['max.in.flight.requests.per.connection', { type: 'int', min: 1, max: INT_MAX }],
  ['enable.idempotence', { type: 'boolean' }],
];

const KNOWN = new Set<string>(DEFINITIONS.map(([name]) => name));

/**
 * Validates a user's producer config and applies Kafka's rules. Throws a ConfigException with
 * Kafka's message for the first problem, in the order Kafka finds them: each value against its
 * validator, then idempotence, then delivery.timeout.ms.
 */
export function parseProducerConfig(input: ProducerConfigInput = {}): ProducerConfig {
  if (input === null || typeof input !== 'object') throw new ConfigException(`The producer config must be an object, got ${String(input)}`);
  for (const name of Object.keys(input)) {
    // Kafka only warns about unused keys; a simulator that silently ignored a misspelt key would
    // quietly run a different experiment, so it refuses them.
    if (!KNOWN.has(name)) throw new ConfigException(`Unknown producer configuration ${name}; known: ${[...KNOWN].sort().join(', ')}`);
  }
  const values: Record<string, number | boolean> = { ...DEFAULT_PRODUCER_CONFIG };
  for (const [name, kind] of DEFINITIONS) {
    const raw = input[name];
    if (raw !== undefined) values[name] = parseValue(name, raw, kind);
  }
  const userSet = (name: ProducerConfigKey) => input[name] !== undefined;
  values['enable.idempotence'] = idempotenceAfterRules(values, userSet('enable.idempotence'));
  values['delivery.timeout.ms'] = deliveryTimeout(values, userSet('delivery.timeout.ms'));
  return Object.freeze(values) as unknown as ProducerConfig;
}

function parseValue(name: ProducerConfigKey, raw: string | number | boolean, kind: Kind): number | boolean {
  switch (kind.type) {
    case 'acks': {
      // Type.STRING with ValidString.in("all", "-1", "0", "1"); then parseAcks turns "all" into -1.
      const s = String(raw).trim();
      if (!['all', '-1', '0', '1'].includes(s)) throw ConfigException.invalid(name, raw, 'String must be one of: all, -1, 0, 1');
      return s === 'all' ? -1 : Number(s);
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).trim().toLowerCase();
      if (s === 'true' || s === 'false') return s === 'true';
      throw ConfigException.invalid(name, raw, 'Expected value to be either true or false');
    }
    default: {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw.trim()) : NaN;
      if (!Number.isInteger(n)) throw ConfigException.invalid(name, raw, `Not a number of type ${kind.type.toUpperCase()}`);
      // ConfigDef.Range.ensureValid.
      if (n < kind.min) throw ConfigException.invalid(name, raw, `Value must be at least ${kind.min}`);
      if (n > kind.max) throw ConfigException.invalid(name, raw, `Value must be no more than ${kind.max}`);
      return n;
    }
  }
}

/**
 * ProducerConfig.postProcessAndValidateIdempotenceConfigs (Kafka 4.x): idempotence is on by
 * default; retries = 0 or acks ≠ all turn it off silently unless the user set enable.idempotence,
 * in which case they are errors. max.in.flight > 5 is an error whenever idempotence is still
 * enabled at that point, even by default (the check runs before the silent disabling applies).
 */
function idempotenceAfterRules(values: Record<string, number | boolean>, userConfiguredIdempotence: boolean): boolean {
  const enabled = values['enable.idempotence'] as boolean;
  if (!enabled) return false;
  let shouldDisable = false;
  if (values.retries === 0) {
    if (userConfiguredIdempotence) throw new ConfigException('Must set retries to non-zero when using the idempotent producer.');
    shouldDisable = true;
  }
  if (values.acks !== -1) {
    if (userConfiguredIdempotence) {
      throw new ConfigException('Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.');
    }
    shouldDisable = true;
  }
  const inFlight = values['max.in.flight.requests.per.connection'] as number;
  if (inFlight > MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION_FOR_IDEMPOTENCE) {
    throw new ConfigException(
      `To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most 5. Current value is ${inFlight}.`,
    );
  }
  return !shouldDisable;
}

/**
 * KafkaProducer.configureDeliveryTimeout: delivery.timeout.ms must cover linger.ms +
 * request.timeout.ms. An explicit smaller value is an error; the default is raised to the sum.
 */
function deliveryTimeout(values: Record<string, number | boolean>, userConfigured: boolean): number {
  const deliveryTimeoutMs = values['delivery.timeout.ms'] as number;
  const lingerMs = Math.min(values['linger.ms'] as number, INT_MAX);
  const lingerAndRequestTimeoutMs = Math.min(lingerMs + (values['request.timeout.ms'] as number), INT_MAX);
  if (deliveryTimeoutMs >= lingerAndRequestTimeoutMs) return deliveryTimeoutMs;
  if (userConfigured) throw new ConfigException('delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms');
  return lingerAndRequestTimeoutMs;
}
