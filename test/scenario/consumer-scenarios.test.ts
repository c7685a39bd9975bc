import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadScenario } from '../../src/scenario/load.js';
import { simulate } from '../../src/scenario/simulate.js';

/*
 * Consumer groups in scenario files: `consumers:` entries become KafkaConsumers in a group,
 * __consumer_offsets is created with the topics, and the consumer checks run on the history.
 */

const base = (consumers: string, faults = '', expect = '[]') => `
name: consumers
seed: 3
duration: 12s
cluster:
  brokers: 3
  controllers: 1
  config: { min.insync.replicas: 2, offsets.topic.num.partitions: 5, group.initial.rebalance.delay.ms: 0 }
topics:
  - { name: orders, partitions: 6, replication.factor: 3 }
producers:
  - { count: 1, topic: orders, rate: 100/s, keys: 20 }
consumers:
${consumers}
faults: [${faults}]
expect: ${expect}
`;

/** loadScenario takes a path or an object: the YAML text is parsed as the CLI would. */
const run = (yaml: string, seed?: number) => simulate(loadScenario(parseYaml(yaml) as object), { seed });

describe('consumers in scenarios', () => {
  it('a group of three reads every acknowledged record across a broker crash, deterministically', () => {
    const yaml = base(`  - { group: billing, count: 3, topics: [orders], config: { enable.auto.commit: false, auto.offset.reset: earliest }, processing: { ms: 1, commit: sync-after-processing } }`, '{ at: 6s, crash: 2, for: 3s }');
    const r = run(yaml);
    expect(r.violations).toEqual([]);
    expect(r.verdict).toBe('pass');
    expect(r.stats.recordsAcked).toBe(1200);
    expect(r.stats.recordsPolled).toBeGreaterThanOrEqual(r.stats.recordsAcked);
    expect(run(yaml).traceHash).toBe(r.traceHash);
  });

  it('a consumer that crashes between processing and committing: the next owner processes those records again (duplicate-processing, at-least-once)', () => {
    const yaml = base(
      `  - { group: billing, count: 2, topics: [orders], config: { enable.auto.commit: false, auto.offset.reset: earliest, max.poll.records: 50 }, processing: { ms: 20, commit: sync-after-processing } }`,
      '{ at: 7s, kill: consumer(billing), for: 2s }',
      '[duplicate-processing]',
    );
    const r = run(yaml);
    expect(r.verdict).toBe('pass');
    const dups = r.violations.filter((v) => v.check === 'duplicate-processing');
    expect(dups.length).toBeGreaterThan(0);
    expect(dups.every((v) => v.permitted === 'at-least-once delivery (Kafka without transactions)')).toBe(true);
  });

  it('auto-commit with asynchronous processing and a crash: committed records that were never processed (lost-processing)', () => {
    const yaml = base(
      `  - { group: billing, count: 1, topics: [orders], config: { auto.offset.reset: earliest, auto.commit.interval.ms: 500 }, processing: { ms: 30, commit: async-processing } }`,
      '{ at: 7s, kill: consumer(billing), for: 2s }',
      '[lost-processing]',
    );
    const r = run(yaml);
    expect(r.verdict).toBe('pass');
    const lost = r.violations.filter((v) => v.check === 'lost-processing');
    expect(lost.length).toBeGreaterThan(0);
    expect(lost[0].permitted).toBe('enable.auto.commit with asynchronous processing');
  });
});
