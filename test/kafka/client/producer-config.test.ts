import { describe, expect, it } from 'vitest';
import { ConfigException, DEFAULT_PRODUCER_CONFIG, parseProducerConfig } from '../../../src/kafka/client/producer/producer-config.js';

/** The ConfigException message parseProducerConfig throws for `input`. */
function errorOf(input: Parameters<typeof parseProducerConfig>[0]): string {
  try {
    parseProducerConfig(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigException);
    return (e as Error).message;
  }
  throw new Error(`no error for ${JSON.stringify(input)}`);
}

describe('producer config: Kafka 4.x defaults', () => {
  it('has the defaults of ProducerConfig and CommonClientConfigs', () => {
    expect(parseProducerConfig({})).toEqual({
      acks: -1,
      'enable.idempotence': true,
      'linger.ms': 5,
      'batch.size': 16384,
      'buffer.memory': 33554432,
      'max.block.ms': 60000,
      'max.in.flight.requests.per.connection': 5,
      'max.request.size': 1048576,
      retries: 2147483647,
      'retry.backoff.ms': 100,
      'retry.backoff.max.ms': 1000,
      'delivery.timeout.ms': 120000,
      'request.timeout.ms': 30000,
      'metadata.max.age.ms': 300000,
      'reconnect.backoff.ms': 50,
      'reconnect.backoff.max.ms': 1000,
      'partitioner.ignore.keys': false,
      'partitioner.adaptive.partitioning.enable': true,
      'partitioner.availability.timeout.ms': 0,
    });
    expect(parseProducerConfig()).toEqual(DEFAULT_PRODUCER_CONFIG);
  });

  it('parses acks as Kafka does: all, -1, 0, 1, as strings or numbers', () => {
    expect(parseProducerConfig({ acks: 'all' }).acks).toBe(-1);
    expect(parseProducerConfig({ acks: '-1' }).acks).toBe(-1);
    expect(parseProducerConfig({ acks: 0 }).acks).toBe(0);
    expect(parseProducerConfig({ acks: ' 1 ' }).acks).toBe(1);
  });

  it('parses numbers and booleans given as strings (YAML, properties files)', () => {
    const c = parseProducerConfig({ 'linger.ms': '20', 'enable.idempotence': 'FALSE', acks: '1' });
    expect(c['linger.ms']).toBe(20);
    expect(c['enable.idempotence']).toBe(false);
  });
});

describe('producer config: values refused with ConfigDef messages', () => {
  it('acks outside {all, -1, 0, 1}', () => {
    expect(errorOf({ acks: 2 })).toBe('Invalid value 2 for configuration acks: String must be one of: all, -1, 0, 1');
    expect(errorOf({ acks: 'ALL' })).toBe('Invalid value ALL for configuration acks: String must be one of: all, -1, 0, 1');
  });

  it('negative linger.ms, batch.size, buffer.memory', () => {
    expect(errorOf({ 'linger.ms': -1 })).toBe('Invalid value -1 for configuration linger.ms: Value must be at least 0');
    expect(errorOf({ 'batch.size': -5 })).toBe('Invalid value -5 for configuration batch.size: Value must be at least 0');
    expect(errorOf({ 'buffer.memory': -1 })).toBe('Invalid value -1 for configuration buffer.memory: Value must be at least 0');
  });

  it('max.in.flight.requests.per.connection below 1, retries above Integer.MAX_VALUE', () => {
    expect(errorOf({ 'max.in.flight.requests.per.connection': 0 })).toBe(
      'Invalid value 0 for configuration max.in.flight.requests.per.connection: Value must be at least 1',
    );
    expect(errorOf({ retries: 2147483648 })).toBe('Invalid value 2147483648 for configuration retries: Value must be no more than 2147483647');
  });

  it('wrong types', () => {
    expect(errorOf({ 'linger.ms': 'soon' })).toBe('Invalid value soon for configuration linger.ms: Not a number of type LONG');
    expect(errorOf({ 'request.timeout.ms': 1.5 })).toBe('Invalid value 1.5 for configuration request.timeout.ms: Not a number of type INT');
    expect(errorOf({ 'enable.idempotence': 'yes' })).toBe('Invalid value yes for configuration enable.idempotence: Expected value to be either true or false');
  });

  it('unknown keys', () => {
    expect(errorOf({ 'linger.msec': 1 } as never)).toMatch(/^Unknown producer configuration linger\.msec; known: acks, batch\.size, /);
  });
});

describe('producer config: idempotence rules (postProcessAndValidateIdempotenceConfigs)', () => {
  it('explicitly enabled with acks=1 is an error with Kafka’s message', () => {
    expect(errorOf({ 'enable.idempotence': true, acks: 1 })).toBe(
      'Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.',
    );
    expect(errorOf({ 'enable.idempotence': true, acks: 0 })).toBe(
      'Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.',
    );
  });

  it('explicitly enabled with retries=0 is an error', () => {
    expect(errorOf({ 'enable.idempotence': true, retries: 0 })).toBe('Must set retries to non-zero when using the idempotent producer.');
  });

  it('silently disabled by acks ≠ all or retries = 0 when not set explicitly', () => {
    expect(parseProducerConfig({ acks: 1 })['enable.idempotence']).toBe(false);
    expect(parseProducerConfig({ acks: 0 })['enable.idempotence']).toBe(false);
    expect(parseProducerConfig({ retries: 0 })['enable.idempotence']).toBe(false);
    expect(parseProducerConfig({ acks: 'all', retries: 3 })['enable.idempotence']).toBe(true);
  });

  it('max.in.flight above 5 is an error while idempotence is on, even by default', () => {
    const message = 'To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most 5. Current value is 6.';
    expect(errorOf({ 'max.in.flight.requests.per.connection': 6 })).toBe(message);
    expect(errorOf({ 'enable.idempotence': true, 'max.in.flight.requests.per.connection': 6 })).toBe(message);
    // Kafka checks it before the silent disabling takes effect: acks=1 does not save it.
    expect(errorOf({ acks: 1, 'max.in.flight.requests.per.connection': 6 })).toBe(message);
    expect(parseProducerConfig({ 'enable.idempotence': false, 'max.in.flight.requests.per.connection': 6 })['max.in.flight.requests.per.connection']).toBe(6);
  });
});

describe('producer config: delivery.timeout.ms (KafkaProducer.configureDeliveryTimeout)', () => {
  it('an explicit value below linger.ms + request.timeout.ms is an error', () => {
    expect(errorOf({ 'delivery.timeout.ms': 30004 })).toBe('delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms');
    expect(parseProducerConfig({ 'delivery.timeout.ms': 30005 })['delivery.timeout.ms']).toBe(30005);
  });

  it('the default is raised to linger.ms + request.timeout.ms when they exceed it', () => {
    expect(parseProducerConfig({ 'request.timeout.ms': 200_000, 'linger.ms': 50 })['delivery.timeout.ms']).toBe(200_050);
  });
});
