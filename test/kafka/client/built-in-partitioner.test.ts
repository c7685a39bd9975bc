import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BuiltInPartitioner,
  clusterOf,
  collectQueueSizes,
  StickyPartitionInfo,
  type NodeLatencyStats,
  type PartitionInfo,
  type PartitionQueue,
} from '../../../src/kafka/client/built-in-partitioner.js';
import { ProducerPartitioner, UNKNOWN_PARTITION } from '../../../src/kafka/client/partitioner.js';
import { partitionForKey } from '../../../src/kafka/client/murmur2.js';
import { Random } from '../../../src/engine/random.js';
import { InvariantError } from '../../../src/engine/errors.js';

const RUNS = process.env.KAFKAESQUE_LONG === '1' ? 5_000 : 300;

/**
 * Kafka's tests mock the partitioner's random draw with a sequential integer:
 * `BuiltInPartitioner.mockRandom = () -> mockRandom.getAndAdd(1)`. `drawn()` is mockRandom.get().
 */
function sequentialRandom(): { nextInt: () => number; drawn: () => number } {
  let next = 0;
  return { nextInt: () => next++, drawn: () => next };
}

const TOPIC_A = 'topicA';
const TOPIC_B = 'topicB';
const TOPIC_C = 'topicC';

function partitions(topic: string, leaders: readonly (number | null)[]): PartitionInfo[] {
  return leaders.map((leader, partition) => ({ topic, partition, leader }));
}

/** One peek-append-update round of RecordAccumulator.append; returns the partition written to. */
function append(p: BuiltInPartitioner, cluster: ReturnType<typeof clusterOf>, bytes: number, enableSwitch = true): number {
  const info = p.peekCurrentPartitionInfo(cluster);
  p.updatePartitionInfo(info, bytes, cluster, enableSwitch);
  return info.partition;
}

describe('BuiltInPartitionerTest.testStickyPartitioning', () => {
  const cluster = clusterOf([...partitions(TOPIC_A, [0, 1, 2]), ...partitions(TOPIC_B, [0])]);

  it('stays on a partition until the sticky batch size (3 records of 1 byte) is reached, then switches', () => {
    const random = sequentialRandom();
    const a = new BuiltInPartitioner(TOPIC_A, 3, random);
    let info = a.peekCurrentPartitionInfo(cluster);
    const partA = info.partition;
    expect(partA).toBe(0); // draw 0 % 3 available partitions
    a.updatePartitionInfo(info, 1, cluster);
    info = a.peekCurrentPartitionInfo(cluster);
    expect(info.partition).toBe(partA);
    a.updatePartitionInfo(info, 1, cluster);
    info = a.peekCurrentPartitionInfo(cluster);
    expect(info.partition).toBe(partA);
    a.updatePartitionInfo(info, 1, cluster);
    // After producing 3 records, the partition must have switched: draw 1 % 3.
    expect(a.peekCurrentPartitionInfo(cluster).partition).toBe(1);
    expect(random.drawn()).toBe(2);

    // Switching works even when there is one partition.
    const b = new BuiltInPartitioner(TOPIC_B, 1, random);
    for (let c = 10; c-- > 0; ) {
      info = b.peekCurrentPartitionInfo(cluster);
      expect(info.partition).toBe(0);
      b.updatePartitionInfo(info, 1, cluster);
    }
  });
});

describe('BuiltInPartitionerTest.unavailablePartitionsTest', () => {
  // Partition 1 of topic A, partition 0 of topic B and partition 0 of topic C have no leader.
  const cluster = clusterOf([
    ...partitions(TOPIC_A, [0, null, 2]),
    ...partitions(TOPIC_B, [null, 0]),
    ...partitions(TOPIC_C, [null]),
  ]);

  it('never chooses an unavailable partition, but still finds another one (seeded draws, as Kafka draws at random)', () => {
    const rng = Random.fromSeed(7).fork('partitioner');
    const a = new BuiltInPartitioner(TOPIC_A, 1, { random: () => rng.float() });
    const partA = append(a, cluster, 1);
    expect(partA).not.toBe(1);
    let foundAnotherPartA = false;
    for (let i = 0; i < 100; i++) {
      const another = append(a, cluster, 1);
      expect(another).not.toBe(1);
      foundAnotherPartA ||= another !== partA;
    }
    expect(foundAnotherPartA).toBe(true);
  });

  it('with sequential draws, alternates over the available partitions 0 and 2', () => {
    const a = new BuiltInPartitioner(TOPIC_A, 1, sequentialRandom());
    const seen = Array.from({ length: 6 }, () => append(a, cluster, 1));
    expect(seen).toEqual([0, 2, 0, 2, 0, 2]);
  });

  it('always chooses partition 1 of topic B, its only available one', () => {
    const b = new BuiltInPartitioner(TOPIC_B, 1, sequentialRandom());
    for (let i = 0; i < 101; i++) expect(append(b, cluster, 1)).toBe(1);
  });

  it('still chooses a partition when none is available (topic C)', () => {
    const c = new BuiltInPartitioner(TOPIC_C, 1, { nextInt: () => 123_456 });
    expect(append(c, cluster, 1)).toBe(0);
    expect(c.peekCurrentPartitionInfo(cluster).partition).toBe(0);
  });
});

describe('BuiltInPartitionerTest.adaptivePartitionsTest', () => {
  const queueSizes = [5, 0, 3, 0, 1];
  const partitionIds = [0, 1, 2, 3, 4];
  const cluster = clusterOf(partitions(TOPIC_A, [0, 1, 2, 11, 0]));

  it('chooses partitions with frequencies reciprocal to the queue sizes over two cycles', () => {
    const p = new BuiltInPartitioner(TOPIC_A, 1, sequentialRandom());
    p.updatePartitionLoadStats(queueSizes, partitionIds, queueSizes.length);
    const expectedFrequencies = queueSizes.map((q) => 6 - q); // 6 is max(queueSizes) + 1
    const numberOfCycles = 2;
    const numberOfIterations = p.loadStatsRangeEnd() * numberOfCycles;
    expect(numberOfIterations).toBe(42);
    const frequencies = [0, 0, 0, 0, 0];
    const chosen: number[] = [];
    for (let i = 0; i < numberOfIterations; i++) {
      const partition = append(p, cluster, 1);
      frequencies[partition]++;
      chosen.push(partition);
    }
    expect(frequencies).toEqual(expectedFrequencies.map((f) => f * numberOfCycles));
    // Draw r picks the first entry of the table [1, 7, 10, 16, 21] strictly greater than r % 21.
    const cycle = [0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4];
    expect(chosen).toEqual([...cycle, ...cycle]);
    expect(p.loadStats()).toEqual({ cumulativeFrequencyTable: [1, 7, 10, 16, 21], partitionIds: [0, 1, 2, 3, 4] });
  });

  it("leaves the caller's arrays as they were (Kafka builds the table in place)", () => {
    const sizes = queueSizes.slice();
    const ids = partitionIds.slice();
    new BuiltInPartitioner(TOPIC_A, 1, sequentialRandom()).updatePartitionLoadStats(sizes, ids, sizes.length);
    expect(sizes).toEqual(queueSizes);
    expect(ids).toEqual(partitionIds);
  });
});

describe('BuiltInPartitionerTest.testStickyBatchSizeMoreThatZero', () => {
  it('rejects a sticky batch size of 0 and accepts 1', () => {
    expect(() => new BuiltInPartitioner(TOPIC_A, 0, sequentialRandom())).toThrow(RangeError);
    expect(() => new BuiltInPartitioner(TOPIC_A, 0, sequentialRandom())).toThrow(/stickyBatchSize must be an integer >= 1 but got 0/);
    expect(() => new BuiltInPartitioner(TOPIC_A, 1, sequentialRandom())).not.toThrow();
  });
});

describe('partition load stats: the cumulative frequency table', () => {
  const cluster = clusterOf(partitions(TOPIC_A, [0, 1, 2]));

  it("turns queue sizes 0 3 1 into the table 4 5 8, so draws 0-3 → p0, 4 → p1, 5-7 → p2 (Kafka's comment)", () => {
    const random = sequentialRandom();
    const p = new BuiltInPartitioner(TOPIC_A, 1, random);
    p.updatePartitionLoadStats([0, 3, 1], [0, 1, 2], 3);
    expect(p.loadStats()?.cumulativeFrequencyTable).toEqual([4, 5, 8]);
    const picks = Array.from({ length: 8 }, () => p.nextPartition(cluster));
    expect(picks).toEqual([0, 0, 0, 0, 1, 2, 2, 2]);
  });

  it('nextPartition takes one draw and does not move the sticky partition', () => {
    const random = sequentialRandom();
    const p = new BuiltInPartitioner(TOPIC_A, 100, random);
    const info = p.peekCurrentPartitionInfo(cluster);
    p.nextPartition(cluster);
    p.nextPartition(cluster);
    expect(random.drawn()).toBe(3);
    expect(p.peekCurrentPartitionInfo(cluster)).toBe(info);
  });

  it('maps partition ids through the table, not indexes', () => {
    const p = new BuiltInPartitioner(TOPIC_A, 1, { nextInt: () => 0 });
    p.updatePartitionLoadStats([3, 0], [7, 4], 2);
    expect(p.loadStats()).toEqual({ cumulativeFrequencyTable: [1, 5], partitionIds: [7, 4] });
    expect(p.nextPartition(cluster)).toBe(7);
  });

  it('falls back to uniform when all queues are equal and none is excluded', () => {
    const p = new BuiltInPartitioner(TOPIC_A, 1, sequentialRandom());
    p.updatePartitionLoadStats([2, 2, 2], [0, 1, 2], 3);
    expect(p.loadStats()).toBeNull();
  });

  it('keeps adaptive partitioning when all queues are equal but some were excluded', () => {
    const p = new BuiltInPartitioner(TOPIC_A, 1, sequentialRandom());
    p.updatePartitionLoadStats([2, 2, 2], [0, 2, 1], 2);
    expect(p.loadStats()).toEqual({ cumulativeFrequencyTable: [1, 2], partitionIds: [0, 2] });
    expect(Array.from({ length: 4 }, () => p.nextPartition(cluster))).toEqual([0, 2, 0, 2]);
  });

  it('keeps adaptive partitioning with one partition left out of several', () => {
    const p = new BuiltInPartitioner(TOPIC_A, 1, sequentialRandom());
    p.updatePartitionLoadStats([4, 1, 9], [2, 0, 1], 1);
    expect(p.loadStats()).toEqual({ cumulativeFrequencyTable: [1], partitionIds: [2] });
    for (let i = 0; i < 5; i++) expect(p.nextPartition(cluster)).toBe(2);
  });

  it('turns adaptive partitioning off for a single-partition topic, no partition left, or null sizes', () => {
    const p = new BuiltInPartitioner(TOPIC_A, 1, sequentialRandom());
    p.updatePartitionLoadStats([3], [0], 1);
    expect(p.loadStats()).toBeNull();
    p.updatePartitionLoadStats([3, 1], [0, 1], 2);
    expect(p.loadStats()).not.toBeNull();
    p.updatePartitionLoadStats([3, 1], [0, 1], 0);
    expect(p.loadStats()).toBeNull();
    p.updatePartitionLoadStats([3, 1], [0, 1], 2);
    p.updatePartitionLoadStats(null, null, 0);
    expect(p.loadStats()).toBeNull();
  });

  it('is strictly increasing, with frequency max + 1 - size for each partition', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { minLength: 2, maxLength: 12 }), (sizes) => {
        fc.pre(new Set(sizes).size > 1);
        const p = new BuiltInPartitioner(TOPIC_A, 1, sequentialRandom());
        p.updatePartitionLoadStats(sizes, sizes.map((_, i) => i), sizes.length);
        const table = p.loadStats()!.cumulativeFrequencyTable;
        const maxPlus1 = Math.max(...sizes) + 1;
        table.forEach((value, i) => {
          expect(value - (i === 0 ? 0 : table[i - 1])).toBe(maxPlus1 - sizes[i]);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('over one full cycle of draws, picks each partition exactly its frequency times', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 20 }), { minLength: 2, maxLength: 10 }), fc.nat({ max: 1000 }), (sizes, start) => {
        fc.pre(new Set(sizes).size > 1);
        let next = start;
        const p = new BuiltInPartitioner(TOPIC_A, 1, { nextInt: () => next++ });
        p.updatePartitionLoadStats(sizes, sizes.map((_, i) => i), sizes.length);
        const counts = sizes.map(() => 0);
        const end = p.loadStatsRangeEnd();
        const cluster10 = clusterOf(partitions(TOPIC_A, sizes.map(() => 0)));
        for (let i = 0; i < end; i++) counts[p.nextPartition(cluster10)]++;
        const maxPlus1 = Math.max(...sizes) + 1;
        expect(counts).toEqual(sizes.map((q) => maxPlus1 - q));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('switching after batch.size bytes (updatePartitionInfo)', () => {
  const cluster = clusterOf(partitions(TOPIC_A, [0, 1, 2]));

  it('waits for an incomplete batch (enableSwitch false), as RecordAccumulatorTest.testUniformBuiltInPartitioner does', () => {
    const random = sequentialRandom();
    const p = new BuiltInPartitioner(TOPIC_A, 128, random);
    // A small record: the first partition.
    expect(append(p, cluster, 10)).toBe(0);
    expect(random.drawn()).toBe(1);
    // A large record exceeds the sticky limit, but the batch is incomplete: no switch.
    expect(append(p, cluster, 128, false)).toBe(0);
    expect(random.drawn()).toBe(1);
    // The next large record completes the batch: switch.
    expect(append(p, cluster, 128, true)).toBe(0);
    expect(random.drawn()).toBe(2);
    expect(append(p, cluster, 128, true)).toBe(1);
    expect(append(p, cluster, 128, true)).toBe(2);
    expect(append(p, cluster, 128, true)).toBe(0);
    expect(random.drawn()).toBe(5);
  });

  it('switches at twice the sticky batch size even when switching is disabled', () => {
    const random = sequentialRandom();
    const p = new BuiltInPartitioner(TOPIC_A, 100, random);
    const info = p.peekCurrentPartitionInfo(cluster);
    p.updatePartitionInfo(info, 150, cluster, false);
    expect(p.isPartitionChanged(info)).toBe(false);
    p.updatePartitionInfo(info, 49, cluster, false);
    expect(p.isPartitionChanged(info)).toBe(false);
    p.updatePartitionInfo(info, 1, cluster, false);
    expect(p.isPartitionChanged(info)).toBe(true);
    expect(info.producedBytes).toBe(200);
  });

  it('does nothing for a record that did not use the built-in partitioner (null info)', () => {
    const random = sequentialRandom();
    const p = new BuiltInPartitioner(TOPIC_A, 1, random);
    p.updatePartitionInfo(null, 1000, cluster);
    expect(random.drawn()).toBe(0);
    expect(p.isPartitionChanged(null)).toBe(false);
  });

  it('only switches after at least batch.size bytes, and always by twice batch.size', () => {
    const step = fc.record({ bytes: fc.nat({ max: 300 }), enableSwitch: fc.boolean() });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.array(step, { maxLength: 60 }), fc.integer(), (batchSize, steps, seed) => {
        const rng = Random.fromSeed(seed);
        const p = new BuiltInPartitioner(TOPIC_A, batchSize, { random: () => rng.float() });
        for (const { bytes, enableSwitch } of steps) {
          const info = p.peekCurrentPartitionInfo(cluster);
          const before = info.producedBytes;
          p.updatePartitionInfo(info, bytes, cluster, enableSwitch);
          const produced = before + bytes;
          const switched = p.isPartitionChanged(info);
          expect(switched).toBe((produced >= batchSize && enableSwitch) || produced >= 2 * batchSize);
          if (switched) {
            expect(produced).toBeGreaterThanOrEqual(batchSize);
            expect(p.peekCurrentPartitionInfo(cluster).producedBytes).toBe(0);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('collectQueueSizes (RecordAccumulator.partitionReady)', () => {
  const noStats = new Map<number, NodeLatencyStats>();
  const queues: PartitionQueue[] = [
    { partition: 0, leader: 0, queueSize: 1 },
    { partition: 1, leader: 0, queueSize: 7 },
    { partition: 2, leader: 1, queueSize: 2 },
  ];

  it('collects nothing (uniform) until every partition has an entry, or with adaptive partitioning off', () => {
    const base = { partitionAvailabilityTimeoutMs: 0, nodeLatencyStats: noStats };
    expect(collectQueueSizes({ ...base, enableAdaptivePartitioning: true, numPartitions: 4, queues }).queueSizes).toBeNull();
    expect(collectQueueSizes({ ...base, enableAdaptivePartitioning: false, numPartitions: 3, queues }).queueSizes).toBeNull();
    expect(collectQueueSizes({ ...base, enableAdaptivePartitioning: true, numPartitions: 3, queues })).toEqual({
      queueSizes: [1, 7, 2],
      partitionIds: [0, 1, 2],
      length: 3,
    });
  });

  it('gives a partition without a leader no slot', () => {
    const withLeaderless: PartitionQueue[] = [queues[0], { partition: 1, leader: null, queueSize: 4 }, queues[2]];
    const r = collectQueueSizes({ enableAdaptivePartitioning: true, partitionAvailabilityTimeoutMs: 0, numPartitions: 3, queues: withLeaderless, nodeLatencyStats: noStats });
    expect(r.length).toBe(2);
    expect(r.partitionIds!.slice(0, 2)).toEqual([0, 2]);
    expect(r.queueSizes!.slice(0, 2)).toEqual([1, 2]);
  });

  it('excludes partitions whose leader has had data ready and undrained longer than the timeout', () => {
    const slow = new Map([[0, { readyTimeMs: 1000, drainTimeMs: 800 }]]);
    const r = collectQueueSizes({ enableAdaptivePartitioning: true, partitionAvailabilityTimeoutMs: 100, numPartitions: 3, queues, nodeLatencyStats: slow });
    expect(r.length).toBe(1);
    expect(r.partitionIds![0]).toBe(2);
    // Exactly the timeout is not yet too long.
    const atLimit = new Map([[0, { readyTimeMs: 1000, drainTimeMs: 900 }]]);
    expect(collectQueueSizes({ enableAdaptivePartitioning: true, partitionAvailabilityTimeoutMs: 100, numPartitions: 3, queues, nodeLatencyStats: atLimit }).length).toBe(3);
    // A timeout of 0 turns exclusions off.
    expect(collectQueueSizes({ enableAdaptivePartitioning: true, partitionAvailabilityTimeoutMs: 0, numPartitions: 3, queues, nodeLatencyStats: slow }).length).toBe(3);
  });

  it("keeps Kafka's quirk: an empty queue skips the exclusion check and keeps the slot's earlier size", () => {
    const slow = new Map([[0, { readyTimeMs: 1000, drainTimeMs: 0 }]]);
    const quirky: PartitionQueue[] = [
      { partition: 0, leader: 0, queueSize: 5 }, // excluded: gives its slot back, but its size stays
      { partition: 1, leader: 0, queueSize: 0 }, // slow leader, empty queue: kept, inherits size 5
      { partition: 2, leader: 1, queueSize: 1 },
    ];
    const r = collectQueueSizes({ enableAdaptivePartitioning: true, partitionAvailabilityTimeoutMs: 100, numPartitions: 3, queues: quirky, nodeLatencyStats: slow });
    expect(r).toEqual({ queueSizes: [5, 1, 0], partitionIds: [1, 2, 0], length: 2 });
    const p = new BuiltInPartitioner(TOPIC_A, 1, sequentialRandom());
    p.updatePartitionLoadStats(r.queueSizes, r.partitionIds, r.length);
    expect(p.loadStats()).toEqual({ cumulativeFrequencyTable: [1, 6], partitionIds: [1, 2] });
  });
});

describe('RecordAccumulatorTest.testAdaptiveBuiltInPartitioner, through ProducerPartitioner', () => {
  it('follows queue sizes 1 7 2, then avoids the partitions of a node slower than partitioner.availability.timeout.ms', () => {
    const random = sequentialRandom();
    const producer = new ProducerPartitioner({ 'batch.size': 128, 'partitioner.availability.timeout.ms': 100 }, { random });
    // node1 (id 0) leads partitions 0 and 1, node2 (id 1) leads partition 2.
    const cluster = clusterOf(partitions('test', [0, 0, 1]));
    const queueSizes = [1, 7, 2];
    const queues = (sizes: number[]) => sizes.map((queueSize, partition) => ({ partition, leader: partition < 2 ? 0 : 1, queueSize }));
    producer.updatePartitionLoadStats('test', cluster, queues(queueSizes), new Map());
    const record = { topic: 'test', key: null, value: new Uint8Array(128) };

    // Prime the built-in partitioner so that it switches on every record.
    producer.choosePartition(record, cluster, 128);
    const numberOfCycles = 2;
    const numberOfIterations = producer.builtInPartitioner('test').loadStatsRangeEnd() * numberOfCycles;
    const frequencies = [0, 0, 0];
    for (let i = 0; i < numberOfIterations; i++) frequencies[producer.choosePartition(record, cluster, 128)]++;
    expect(frequencies).toEqual(queueSizes.map((q) => (8 - q) * numberOfCycles)); // 8 is max(queueSizes) + 1

    // Node 0 has had data ready for 200 ms without draining it: its partitions are excluded.
    const nodeStats = new Map([[0, { readyTimeMs: 10_000, drainTimeMs: 10_000 - 200 }]]);
    producer.updatePartitionLoadStats('test', cluster, queues([3, 9, 4]), nodeStats);
    // One append, because the partition switches after an append.
    producer.choosePartition(record, cluster, 128);
    for (let c = 10; c-- > 0; ) expect(producer.choosePartition(record, cluster, 128)).toBe(2);
  });
});

describe('adaptive partitioning never picks an excluded partition', () => {
  const queueArb = fc.record({ leader: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }), queueSize: fc.nat({ max: 6 }) });
  const latencyArb = fc.record({ drainTimeMs: fc.nat({ max: 1000 }), laterMs: fc.nat({ max: 400 }) });

  it('picks only partitions with a leader and, when load stats are in use, none excluded by partitioner.availability.timeout.ms', () => {
    fc.assert(
      fc.property(
        fc.array(queueArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.option(latencyArb, { nil: null }), { minLength: 3, maxLength: 3 }),
        fc.nat({ max: 300 }),
        fc.integer(),
        (queueSpecs, latencies, timeoutMs, seed) => {
          const queues: PartitionQueue[] = queueSpecs.map((q, partition) => ({ partition, ...q }));
          const cluster = clusterOf(queues.map(({ partition, leader }) => ({ topic: TOPIC_A, partition, leader })));
          const nodeLatencyStats = new Map<number, NodeLatencyStats>();
          latencies.forEach((l, node) => {
            if (l !== null) nodeLatencyStats.set(node, { drainTimeMs: l.drainTimeMs, readyTimeMs: l.drainTimeMs + l.laterMs });
          });
          const isSlow = (leader: number) => {
            const s = nodeLatencyStats.get(leader);
            return timeoutMs > 0 && s !== undefined && s.readyTimeMs - s.drainTimeMs > timeoutMs;
          };
          // The availability rules of RecordAccumulator.partitionReady: no leader, or a non-empty
          // queue on a leader slower than the timeout.
          const excluded = new Set(queues.filter((q) => q.leader === null || (q.queueSize > 0 && isSlow(q.leader))).map((q) => q.partition));
          const withLeader = new Set(queues.filter((q) => q.leader !== null).map((q) => q.partition));

          const rng = Random.fromSeed(seed);
          const p = new BuiltInPartitioner(TOPIC_A, 1, { random: () => rng.float() });
          const sizes = collectQueueSizes({ enableAdaptivePartitioning: true, partitionAvailabilityTimeoutMs: timeoutMs, numPartitions: queues.length, queues, nodeLatencyStats });
          p.updatePartitionLoadStats(sizes.queueSizes, sizes.partitionIds, sizes.length);
          const stats = p.loadStats();
          if (stats !== null) {
            for (const id of stats.partitionIds) expect(excluded.has(id)).toBe(false);
          }
          for (let i = 0; i < 30; i++) {
            const chosen = p.nextPartition(cluster);
            expect(chosen >= 0 && chosen < queues.length).toBe(true);
            if (stats !== null) expect(excluded.has(chosen)).toBe(false);
            if (withLeader.size > 0) expect(withLeader.has(chosen)).toBe(true);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('ProducerPartitioner: KafkaProducer.partition', () => {
  // Partition 6 has no leader: keyed records still count it.
  const leaders = [0, 1, 2, 0, 1, 2, null, 1, 2, 0, 1, 2];
  const cluster = clusterOf(partitions('orders', leaders));
  const seeded = () => {
    const rng = Random.fromSeed(1).fork('producer-0');
    return { random: () => rng.float() };
  };

  it('an explicit partition wins over the key and a custom partitioner', () => {
    const plain = new ProducerPartitioner({}, { random: seeded() });
    expect(plain.partition({ topic: 'orders', partition: 9, key: 'foobar' }, cluster)).toBe(9);
    const custom = new ProducerPartitioner({}, { random: seeded(), partitioner: () => 3 });
    expect(custom.partition({ topic: 'orders', partition: 9, key: 'foobar' }, cluster)).toBe(9);
  });

  it('a keyed record goes to partitionForKey over all partitions, including one without a leader', () => {
    const p = new ProducerPartitioner({}, { random: seeded() });
    expect(p.partition({ topic: 'orders', key: 'foobar' }, cluster)).toBe(6);
    expect(p.partition({ topic: 'orders', key: new Uint8Array([97, 98, 99]) }, cluster)).toBe(3);
    expect(p.choosePartition({ topic: 'orders', key: 'foobar' }, cluster, 100)).toBe(6);
  });

  it('an empty key is a key; only a null or absent key goes to the sticky partitioner', () => {
    const p = new ProducerPartitioner({}, { random: seeded() });
    expect(p.partition({ topic: 'orders', key: '' }, cluster)).toBe(partitionForKey('', 12));
    expect(p.partition({ topic: 'orders', key: null }, cluster)).toBe(UNKNOWN_PARTITION);
    expect(p.partition({ topic: 'orders' }, cluster)).toBe(UNKNOWN_PARTITION);
  });

  it('a null key sticks to one available partition for batch.size bytes, then moves', () => {
    const p = new ProducerPartitioner({ 'batch.size': 1000 }, { random: { nextInt: sequentialRandom().nextInt } });
    const chosen = Array.from({ length: 6 }, () => p.choosePartition({ topic: 'orders', value: 'v' }, cluster, 400));
    // Draw 0 → available[0] = 0 for 1200 bytes (switch at ≥ 1000), then draw 1 → available[1] = 1.
    expect(chosen).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('partitioner.ignore.keys sends keyed records through the sticky partitioner', () => {
    const p = new ProducerPartitioner({ 'partitioner.ignore.keys': true }, { random: { nextInt: () => 4 } });
    expect(p.partition({ topic: 'orders', key: 'foobar' }, cluster)).toBe(UNKNOWN_PARTITION);
    expect(p.choosePartition({ topic: 'orders', key: 'foobar' }, cluster, 10)).toBe(4);
  });

  it('keeps one built-in partitioner per topic', () => {
    const two = clusterOf([...partitions('a', [0, 1]), ...partitions('b', [0, 1, 2])]);
    const p = new ProducerPartitioner({ 'batch.size': 10 }, { random: { nextInt: sequentialRandom().nextInt } });
    expect(p.choosePartition({ topic: 'a' }, two, 5)).toBe(0); // draw 0
    expect(p.choosePartition({ topic: 'b' }, two, 5)).toBe(1); // draw 1
    expect(p.choosePartition({ topic: 'a' }, two, 5)).toBe(0); // a switches: draw 2 → 0
    expect(p.choosePartition({ topic: 'a' }, two, 5)).toBe(0);
    expect(p.builtInPartitioner('a')).toBe(p.builtInPartitioner('a'));
    expect(p.builtInPartitioner('a')).not.toBe(p.builtInPartitioner('b'));
  });

  it('batch.size 0 means a sticky batch of 1 byte, as in KafkaProducer', () => {
    const p = new ProducerPartitioner({ 'batch.size': 0 }, { random: seeded() });
    expect(p.stickyBatchSize).toBe(1);
    expect(new ProducerPartitioner({}, { random: seeded() }).stickyBatchSize).toBe(16384);
  });

  it('a custom partitioner decides for keyed and unkeyed records, and turns adaptive partitioning off', () => {
    const calls: unknown[][] = [];
    const p = new ProducerPartitioner({}, {
      random: seeded(),
      partitioner: (topic, key, value, n) => {
        calls.push([topic, key, value, n]);
        return 11;
      },
    });
    expect(p.partition({ topic: 'orders', key: 'k', value: 'v' }, cluster)).toBe(11);
    expect(p.partition({ topic: 'orders', value: 'v' }, cluster)).toBe(11);
    expect(calls).toEqual([
      ['orders', 'k', 'v', 12],
      ['orders', null, 'v', 12],
    ]);
    expect(p.enableAdaptivePartitioning).toBe(false);
  });

  it.each([
    [-1, RangeError, /The partitioner generated an invalid partition number: -1\. Partition number should always be non-negative\./],
    [12, RangeError, /invalid partition number: 12\. Topic orders has 12 partitions/],
    [1.5, TypeError, /invalid partition number: 1\.5/],
    [Number.NaN, TypeError, /invalid partition number: NaN/],
    ['3', TypeError, /invalid partition number: 3/],
  ])('a custom partitioner returning %s is an error', (value, type, message) => {
    const p = new ProducerPartitioner({}, { random: seeded(), partitioner: () => value as number });
    expect(() => p.partition({ topic: 'orders', key: 'k' }, cluster)).toThrow(type);
    expect(() => p.partition({ topic: 'orders', key: 'k' }, cluster)).toThrow(message);
  });
});

describe('bad inputs throw clear errors', () => {
  const cluster = clusterOf(partitions(TOPIC_A, [0, 1, 2]));

  it('rejects bad producer configs with the config name', () => {
    const random = { nextInt: () => 0 };
    expect(() => new ProducerPartitioner({ 'batch.size': -1 }, { random })).toThrow(/Invalid value -1 for configuration batch\.size: Value must be at least 0/);
    expect(() => new ProducerPartitioner({ 'batch.size': 1.5 }, { random })).toThrow(RangeError);
    expect(() => new ProducerPartitioner({ 'partitioner.availability.timeout.ms': -5 }, { random })).toThrow(/partitioner\.availability\.timeout\.ms/);
    expect(() => new ProducerPartitioner({ 'partitioner.ignore.keys': 'yes' as unknown as boolean }, { random })).toThrow(TypeError);
    expect(() => new ProducerPartitioner({ 'partitioner.adaptive.partitioning.enable': 1 as unknown as boolean }, { random })).toThrow(
      /partitioner\.adaptive\.partitioning\.enable: Expected value to be either true or false/,
    );
    expect(() => new ProducerPartitioner({}, { random, partitioner: 'murmur' as unknown as () => number })).toThrow(/partitioner must be a function/);
  });

  it('rejects a bad explicit partition, an unknown topic and a bad topic', () => {
    const p = new ProducerPartitioner({}, { random: { nextInt: () => 0 } });
    expect(() => p.partition({ topic: TOPIC_A, partition: -1 }, cluster)).toThrow(/Invalid partition: -1\. Partition number should always be non-negative or null\./);
    expect(() => p.partition({ topic: TOPIC_A, partition: 0.5 }, cluster)).toThrow(RangeError);
    expect(() => p.partition({ topic: TOPIC_A, partition: 3 }, cluster)).toThrow(/Partition 3 of topic topicA with partition count 3 is not present in metadata/);
    expect(() => p.partition({ topic: 'nope', key: 'k' }, cluster)).toThrow(/Topic nope has no partitions/);
    expect(() => p.partition({ topic: '' }, cluster)).toThrow(TypeError);
  });

  it('rejects bad sticky batch sizes and topics', () => {
    expect(() => new BuiltInPartitioner(TOPIC_A, 1.5, { nextInt: () => 0 })).toThrow(RangeError);
    expect(() => new BuiltInPartitioner(TOPIC_A, -3, { nextInt: () => 0 })).toThrow(/stickyBatchSize/);
    expect(() => new BuiltInPartitioner('', 1, { nextInt: () => 0 })).toThrow(TypeError);
  });

  it('rejects a missing random source and out-of-range draws', () => {
    expect(() => new BuiltInPartitioner(TOPIC_A, 1, {} as never)).toThrow(/random must be \{ nextInt: \(\) => number \} or \{ random: \(\) => number \}/);
    expect(() => new BuiltInPartitioner(TOPIC_A, 1, { nextInt: () => 2 ** 31 }).peekCurrentPartitionInfo(cluster)).toThrow(/nextInt\(\) must return a 32-bit signed integer/);
    expect(() => new BuiltInPartitioner(TOPIC_A, 1, { nextInt: () => 0.5 }).peekCurrentPartitionInfo(cluster)).toThrow(RangeError);
    expect(() => new BuiltInPartitioner(TOPIC_A, 1, { random: () => 1 }).peekCurrentPartitionInfo(cluster)).toThrow(/random\(\) must return a number in \[0, 1\)/);
    expect(() => new BuiltInPartitioner(TOPIC_A, 1, { random: () => Number.NaN }).peekCurrentPartitionInfo(cluster)).toThrow(RangeError);
  });

  it('maps a negative Java-style nextInt() through toPositive, and a [0, 1) draw onto the full int range', () => {
    const four = clusterOf(partitions(TOPIC_A, [0, 1, 2, 3]));
    // toPositive(-1) = 2147483647, and 2147483647 % 4 = 3.
    expect(new BuiltInPartitioner(TOPIC_A, 1, { nextInt: () => -1 }).nextPartition(four)).toBe(3);
    // 0.75 * 2^32 = 3221225472 → int -1073741824 → toPositive 1073741824, and % 4 = 0.
    expect(new BuiltInPartitioner(TOPIC_A, 1, { random: () => 0.75 }).nextPartition(four)).toBe(0);
    expect(new BuiltInPartitioner(TOPIC_A, 1, { random: () => 0.999 }).nextPartition(four)).toBe(toPositiveOf(0.999) % 4);
  });

  it('rejects a topic missing from the metadata', () => {
    expect(() => new BuiltInPartitioner('missing', 1, { nextInt: () => 0 }).peekCurrentPartitionInfo(cluster)).toThrow(/topic missing has no partitions/);
  });

  it('rejects bad appended bytes and a stale partition info', () => {
    const p = new BuiltInPartitioner(TOPIC_A, 1, sequentialRandom());
    const info = p.peekCurrentPartitionInfo(cluster);
    expect(() => p.updatePartitionInfo(info, -1, cluster)).toThrow(/appendedBytes must be a non-negative integer, got -1/);
    p.updatePartitionInfo(info, 1, cluster);
    expect(() => p.updatePartitionInfo(info, 1, cluster)).toThrow(InvariantError);
    expect(() => p.updatePartitionInfo(new StickyPartitionInfo(0), 1, cluster)).toThrow(/replaced since it was peeked/);
  });

  it('rejects inconsistent load stats', () => {
    const p = new BuiltInPartitioner(TOPIC_A, 1, sequentialRandom());
    expect(() => p.updatePartitionLoadStats([1, 2], null, 2)).toThrow(TypeError);
    expect(() => p.updatePartitionLoadStats([1, 2], [0], 2)).toThrow(/queueSizes has 2 entries but partitionIds has 1/);
    expect(() => p.updatePartitionLoadStats([1, 2], [0, 1], 3)).toThrow(/length must be an integer in \[0, 2\], got 3/);
    expect(() => p.updatePartitionLoadStats([1, -2], [0, 1], 2)).toThrow(/queueSizes\[1\] must be a non-negative integer/);
    expect(() => p.updatePartitionLoadStats([1, 2], [0, 1.5], 2)).toThrow(/partitionIds\[1\]/);
    expect(() => p.loadStatsRangeEnd()).toThrow(InvariantError);
    expect(() =>
      collectQueueSizes({ enableAdaptivePartitioning: true, partitionAvailabilityTimeoutMs: -1, numPartitions: 1, queues: [], nodeLatencyStats: new Map() }),
    ).toThrow(/partitionAvailabilityTimeoutMs must be a non-negative integer/);
  });
});

function toPositiveOf(u: number): number {
  return (Math.floor(u * 2 ** 32) | 0) & 0x7fffffff;
}
