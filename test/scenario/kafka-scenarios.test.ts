import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.js';
import { ScenarioError } from '../../src/scenario/scenario-error.js';
import { simulate } from '../../src/scenario/simulate.js';

const dir = mkdtempSync(join(tmpdir(), 'kafkaesque-kafka-scenarios-'));
let n = 0;
function file(content: string): string {
  const p = join(dir, `k${n++}.yaml`);
  writeFileSync(p, content);
  return p;
}
function problems(content: string): string[] {
  try {
    loadScenario(file(content));
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return [...(e as ScenarioError).problems];
  }
  throw new Error('expected a ScenarioError');
}

const base = `name: k
cluster: { brokers: 3 }
topics: [{ name: orders, partitions: 2, replication.factor: 3 }]
`;

describe('Kafka scenarios: the shipped pair', () => {
  for (const seed of [undefined, 1, 2, 3]) {
    it(`quickstart (acks=1) loses acknowledged writes and acks-all-leader-failover loses none (seed ${seed ?? 'of the file'})`, () => {
      const unsafe = simulate(loadScenario('scenarios/quickstart.yaml'), { seed });
      expect(unsafe.verdict).toBe('pass');
      expect(unsafe.violations.some((v) => v.check === 'lost-write' && v.partition === 'orders-0')).toBe(true);
      // Only orders-0's leader was cut off with the producer: nothing else is lost.
      expect(unsafe.violations.every((v) => v.partition === 'orders-0')).toBe(true);
      const safe = simulate(loadScenario('scenarios/acks-all-leader-failover.yaml'), { seed });
      expect(safe.violations).toEqual([]);
      expect(safe.verdict).toBe('pass');
      expect(safe.stats.recordsAcked).toBeGreaterThan(10_000);
    });
  }

  it('replays byte for byte: same seed, same trace hash and findings', () => {
    const a = simulate(loadScenario('scenarios/quickstart.yaml'), { seed: 5 });
    const b = simulate(loadScenario('scenarios/quickstart.yaml'), { seed: 5 });
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.violations).toEqual(a.violations);
    expect(simulate(loadScenario('scenarios/quickstart.yaml'), { seed: 6 }).traceHash).not.toBe(a.traceHash);
  });
});

describe('Kafka scenarios: validation names the problem and where', () => {
  it.each([
    ['replication.factor above the broker count', `name: k\ncluster: { brokers: 2 }\ntopics: [{ name: t, partitions: 1, replication.factor: 3 }]\n`, /at topics\[0\]\.replication\.factor: replication\.factor 3 is larger than the number of brokers \(2\)/],
    ['a producer for a topic that does not exist', `${base}producers: [{ topic: order, rate: 10/s }]\n`, /at producers\[0\]\.topic: no topic named order; expected one of orders/],
    ['idempotence explicitly on with acks=1', `${base}producers: [{ topic: orders, rate: 10/s, config: { acks: 1, enable.idempotence: true } }]\n`, /at producers\[0\]\.config: .*acks/i],
    ['acks=2', `${base}producers: [{ topic: orders, rate: 10/s, config: { acks: 2 } }]\n`, /at producers\[0\]\.config: .*acks/],
    ['a negative linger.ms', `${base}producers: [{ topic: orders, rate: 10/s, config: { linger.ms: -1 } }]\n`, /at producers\[0\]\.config: .*linger\.ms/],
    ['a bad rate', `${base}producers: [{ topic: orders, rate: fast }]\n`, /at producers\[0\]\.rate: expected a rate/],
    ['a fault on a partition that does not exist', `${base}faults: [{ at: 1s, crash: leader(orders-7) }]\n`, /at faults\[0\]\.crash: leader\(orders-7\): topic orders has partitions 0 to 1/],
    ['a partition group naming a missing broker', `${base}faults: [{ at: 1s, partition: [[9], [others]] }]\n`, /at faults\[0\]\.partition\[0\]\[0\]: there is no broker 9/],
    ['a consumer without topics', `${base}consumers: [{ group: g }]\n`, /at consumers\[0\]\.topics: /],
    ['a consumer of a topic that does not exist', `${base}consumers: [{ group: g, topics: [order] }]\n`, /at consumers\[0\]\.topics\[0\]: no topic named order; expected one of orders/],
    ['group.id in a consumer\'s config', `${base}consumers: [{ group: g, topics: [orders], config: { group.id: h } }]\n`, /at consumers\[0\]\.config\.group\.id: the group id is the consumer entry's group: field/],
    ['an unknown consumer config key', `${base}consumers: [{ group: g, topics: [orders], config: { max.poll.record: 5 } }]\n`, /at consumers\[0\]\.config: .*max\.poll\.record/],
    ['auto commits with enable.auto.commit off', `${base}consumers: [{ group: g, topics: [orders], config: { enable.auto.commit: false }, processing: { commit: auto } }]\n`, /at consumers\[0\]\.processing\.commit: auto relies on enable\.auto\.commit=true/],
    ['a consumer fault naming a group that does not exist', `${base}consumers: [{ group: g, topics: [orders] }]\nfaults: [{ at: 1s, crash: consumer(h) }]\n`, /at faults\[0\]\.crash: consumer\(h\): no consumer group h/],
    ['__consumer_offsets that cannot be created', `name: k\ncluster: { brokers: 2 }\ntopics: [{ name: orders, partitions: 1, replication.factor: 1 }]\nconsumers: [{ group: g, topics: [orders] }]\n`, /at cluster\.config\.offsets\.topic\.replication\.factor: is 3 \(Kafka's default is 3\) but there are 2 broker\(s\)/],
    ['an unknown broker config key', `name: k\ncluster: { brokers: 3, config: { min.insync.replica: 2 } }\n`, /unknown key "min.insync.replica"; did you mean min.insync.replicas\?/],
    ['an unknown protocol switch', `${base}protocol: { leaderEpochTruncaton: false }\n`, /did you mean leaderEpochTruncation\?/],
  ])('refuses %s', (_what, content, message) => {
    expect(problems(content).join('\n')).toMatch(message);
  });
});

describe('what producers met', () => {
  it('jepsen-2013-min-isr-2: below min.insync.replicas the leader refuses acks=all writes with NOT_ENOUGH_REPLICAS, and nothing acknowledged is lost', () => {
    const r = simulate(loadScenario('scenarios/jepsen-2013-min-isr-2.yaml'));
    expect(r.verdict).toBe('pass');
    expect(r.violations).toEqual([]);
    expect(r.stats.producerErrors?.NOT_ENOUGH_REPLICAS).toBeGreaterThan(0);
    expect(r.stats.recordsAcked).toBe(r.stats.recordsSent);
  });
});
