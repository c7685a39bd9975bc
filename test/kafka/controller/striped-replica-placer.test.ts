import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Random } from '../../../src/engine/random.js';
import { StripedReplicaPlacer, type UsableBroker } from '../../../src/kafka/controller/striped-replica-placer.js';

/**
 * Kafka's test fixture `MockRandom` (server-common/src/testFixtures/.../server/util/MockRandom.java):
 * a java.util.Random whose `next(bits)` is a fixed 64-bit LCG seeded with 17, behind Java's own
 * `nextInt(bound)` and `Collections.shuffle`. Our placer draws `rng.int(0, n - 1)` where Kafka draws
 * `random.nextInt(n)`, and `rng.shuffled` where Kafka calls `Collections.shuffle`, in the same
 * order for the cases below, so feeding it this stream reproduces the expected lists of
 * StripedReplicaPlacerTest.java value for value.
 */
class JavaMockRandom extends Random {
  private state: bigint;

  constructor(seed = 17n) {
    super('java-mock-random');
    this.state = seed;
  }

  /** java.util.Random.next(bits) as MockRandom overrides it. */
  private nextBits(bits: number): number {
    this.state = BigInt.asUintN(64, this.state * 2862933555777941757n + 3037000493n);
    return Number(BigInt.asIntN(32, this.state >> BigInt(64 - bits)));
  }

  /** java.util.Random.nextInt(bound), the legacy algorithm Random keeps. */
  nextInt(bound: number): number {
    let r = this.nextBits(31);
    const m = bound - 1;
    if ((bound & m) === 0) return Number((BigInt(bound) * BigInt(r)) >> 31n);
    for (let u = r; u - (r = u % bound) + m > 0x7fffffff; u = this.nextBits(31));
    return r;
  }

  override int(min: number, max: number): number {
    return min + this.nextInt(max - min + 1);
  }

  /** Collections.shuffle(list, rnd): for i = size..2, swap(i - 1, nextInt(i)). */
  override shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length; i > 1; i--) {
      const j = this.nextInt(i);
      const tmp = out[i - 1];
      out[i - 1] = out[j];
      out[j] = tmp;
    }
    return out;
  }

  override float(): number {
    throw new Error('the placer should draw only integers and shuffles');
  }
}

const b = (id: number, rack: string | null, fenced = false): UsableBroker => ({ id, rack, fenced });

function placeN(placer: StripedReplicaPlacer, n: number, rf: number): number[][] {
  return Array.from({ length: n }, () => placer.place(rf));
}

describe('StripedReplicaPlacer with Kafka MockRandom draws (StripedReplicaPlacerTest.java)', () => {
  it('JavaMockRandom reproduces java.util.Random.nextInt on known values', () => {
    // Self-check of the fixture against values computed by hand from the LCG: the first
    // next(31) from state 17 and the power-of-two branch of nextInt.
    const r = new JavaMockRandom();
    const state = BigInt.asUintN(64, 17n * 2862933555777941757n + 3037000493n);
    const first31 = Number(state >> 33n);
    expect(r.nextInt(1000)).toBe(first31 % 1000);
    const r2 = new JavaMockRandom();
    expect(r2.nextInt(4)).toBe(Number((4n * BigInt(first31)) >> 31n));
  });

  it('testAvoidFencedReplicaIfPossibleOnSingleRack: 4 unfenced + 1 fenced, rf 4', () => {
    const placer = new StripedReplicaPlacer(new JavaMockRandom(), [b(3, null), b(1, null, true), b(0, null), b(4, null), b(2, null)]);
    expect(() => placer.place(0)).toThrow(/must be positive/);
    expect(() => placer.place(-1)).toThrow(/must be positive/);
    expect(placeN(placer, 5, 4)).toEqual([
      [3, 4, 0, 2],
      [4, 0, 2, 3],
      [0, 2, 3, 4],
      [2, 3, 4, 0],
      [0, 4, 3, 2],
    ]);
  });

  it('testMultiPartitionTopicPlacementOnSingleUnfencedBroker: rf 1 on the one unfenced broker', () => {
    const placer = new StripedReplicaPlacer(new JavaMockRandom(), [b(0, null), b(1, null, true)]);
    expect(placeN(placer, 3, 1)).toEqual([[0], [0], [0]]);
  });

  it('testPlacementOnFencedReplicaOnSingleRack: the fenced broker is used, last, when rf needs it', () => {
    const placer = new StripedReplicaPlacer(new JavaMockRandom(), [b(3, null), b(1, null, true), b(2, null)]);
    expect(placeN(placer, 4, 3)).toEqual([
      [3, 2, 1],
      [2, 3, 1],
      [3, 2, 1],
      [2, 3, 1],
    ]);
  });

  it('testRackListWithMultipleRacks: racks 1, 2, 3 with broker 20 fenced', () => {
    const placer = new StripedReplicaPlacer(new JavaMockRandom(), [b(11, '1'), b(10, '1'), b(30, '3'), b(31, '3'), b(21, '2'), b(20, '2', true)]);
    expect(placeN(placer, 3, 4)).toEqual([
      [11, 21, 31, 10],
      [21, 30, 10, 20],
      [31, 11, 21, 30],
    ]);
  });

  it('testRackListWithInvalidRacks: racks 2 and 3 wholly fenced never lead', () => {
    const placer = new StripedReplicaPlacer(new JavaMockRandom(), [
      b(11, '1'),
      b(10, '1'),
      b(30, '3', true),
      b(31, '3', true),
      b(20, '2', true),
      b(21, '2', true),
      b(41, '4'),
      b(40, '4', true),
    ]);
    expect(placeN(placer, 3, 4)).toEqual([
      [41, 11, 21, 30],
      [10, 20, 31, 41],
      [41, 21, 30, 11],
    ]);
  });

  it('testPlaceShiftsInitialOffsetsRackUnaware: first placement of 12 rack-less brokers', () => {
    const brokers = Array.from({ length: 12 }, (_, i) => b(i, null));
    expect(placeN(new StripedReplicaPlacer(new JavaMockRandom(), brokers), 2, 3)).toEqual([
      [7, 8, 9],
      [8, 9, 10],
    ]);
  });

  it('testPlaceShiftsInitialOffsetsRackAware: first placement over racks 1, 2, 3', () => {
    const brokers = Array.from({ length: 12 }, (_, i) => b(i, String(1 + Math.floor(i / 4))));
    expect(placeN(new StripedReplicaPlacer(new JavaMockRandom(), brokers), 2, 3)).toEqual([
      [6, 8, 2],
      [9, 3, 7],
    ]);
  });

  it('testPlaceShiftsInitialOffsetsRackAwareAndUsesUnusedRacks: first placement over racks 1..4', () => {
    const brokers = [b(0, '1'), b(1, '2'), b(2, '3'), b(3, '4')];
    expect(new StripedReplicaPlacer(new JavaMockRandom(), brokers).place(2)).toEqual([0, 1]);
  });
});

/** Records the placer's draws (`nextInt(n)`, `shuffle(n)`) and answers 0 / identity. */
class RecordingRandom extends Random {
  readonly draws: string[] = [];
  constructor() {
    super('recording');
  }
  override int(min: number, max: number): number {
    this.draws.push(`nextInt(${max - min + 1})`);
    return min;
  }
  override shuffled<T>(items: readonly T[]): T[] {
    this.draws.push(`shuffle(${items.length})`);
    return items.slice();
  }
}

describe('StripedReplicaPlacer draw order (RackList constructor and RackList.shuffle)', () => {
  // Racks a and b each hold 3 unfenced and 2 fenced brokers; rack c only 1 unfenced.
  const brokers = [b(1, 'a'), b(2, 'a'), b(3, 'a'), b(4, 'a', true), b(5, 'a', true), b(6, 'b'), b(7, 'b'), b(8, 'b'), b(9, 'b', true), b(10, 'b', true), b(11, 'c')];

  it('RackList: each rack initializes its fenced list, then its unfenced list, then one draw for the rack offset', () => {
    const rng = new RecordingRandom();
    new StripedReplicaPlacer(rng, brokers);
    // Rack.initialize: fenced.initialize(random); unfenced.initialize(random). An empty list draws nothing.
    expect(rng.draws).toEqual(['nextInt(2)', 'nextInt(3)', 'nextInt(2)', 'nextInt(3)', 'nextInt(1)', 'nextInt(3)']);
  });

  // Kafka's Rack.shuffle is `fenced.shuffle(random); unfenced.shuffle(random);` (after
  // Collections.shuffle(rackNames)). striped-replica-placer.ts (place(): the shuffle loop)
  // shuffles unfenced first, so with the same stream the two lists get each other's draws.
  // No effect on the simulator's properties (it uses its own stream), only on matching Kafka
  // draw for draw.
  it('RackList.shuffle: rack names, then each rack fenced before unfenced', () => {
    const rng = new RecordingRandom();
    const placer = new StripedReplicaPlacer(rng, brokers);
    // 7 unfenced brokers: the 8th placement starts a new round and shuffles.
    placeN(placer, 7, 1);
    expect(rng.draws.length).toBe(6);
    placer.place(1);
    expect(rng.draws.slice(6)).toEqual(['shuffle(3)', 'shuffle(2)', 'shuffle(3)', 'shuffle(2)', 'shuffle(3)', 'shuffle(0)', 'shuffle(1)']);
  });
});

describe('StripedReplicaPlacer errors (throwInvalidReplicationFactor*)', () => {
  it('rf greater than the registered brokers names the count, as Kafka words it', () => {
    const placer = new StripedReplicaPlacer(Random.fromSeed(1), [b(1, 'a'), b(2, 'b', true)]);
    expect(() => placer.place(3)).toThrow('The target replication factor of 3 cannot be reached because only 2 broker(s) are registered');
  });

  it('every broker fenced: "All brokers are currently fenced", even for rf 1', () => {
    const placer = new StripedReplicaPlacer(Random.fromSeed(1), [b(1, 'a', true), b(2, 'b', true)]);
    expect(() => placer.place(1)).toThrow('All brokers are currently fenced');
  });

  it('rf > brokers is checked before all-fenced (Kafka checks in that order in RackList.place)', () => {
    const placer = new StripedReplicaPlacer(Random.fromSeed(1), [b(1, 'a', true)]);
    expect(() => placer.place(2)).toThrow(/cannot be reached because only 1 broker/);
  });

  it('no brokers at all', () => {
    const placer = new StripedReplicaPlacer(Random.fromSeed(1), []);
    expect(() => placer.place(1)).toThrow(/only 0 broker/);
  });
});

/** Up to 4 racks (or none), up to 9 brokers, some fenced; a seed for the placer's stream. */
const clusterArb = fc
  .record({
    racks: fc.integer({ min: 0, max: 4 }),
    brokers: fc.array(fc.record({ rackIndex: fc.nat(), fenced: fc.boolean() }), { minLength: 1, maxLength: 9 }),
    seed: fc.integer(),
    partitions: fc.integer({ min: 1, max: 12 }),
  })
  .map(({ racks, brokers, seed, partitions }) => ({
    seed,
    partitions,
    brokers: brokers.map((x, i) => b(10 + i, racks === 0 ? null : `r${x.rackIndex % racks}`, x.fenced)),
  }));

describe('StripedReplicaPlacer properties over random clusters and seeds', () => {
  it('replicas are distinct, the leader is unfenced, fenced brokers only when needed, racks spread', () => {
    fc.assert(
      fc.property(clusterArb, fc.integer({ min: 1, max: 9 }), ({ seed, partitions, brokers }, rf) => {
        const placer = new StripedReplicaPlacer(Random.fromSeed(seed), brokers);
        const unfenced = brokers.filter((x) => !x.fenced);
        if (rf > brokers.length) {
          expect(() => placer.place(rf)).toThrow(/cannot be reached/);
          return;
        }
        if (unfenced.length === 0) {
          expect(() => placer.place(rf)).toThrow('All brokers are currently fenced');
          return;
        }
        const rackOf = new Map(brokers.map((x) => [x.id, x.rack]));
        const fenced = new Set(brokers.filter((x) => x.fenced).map((x) => x.id));
        const rackCount = new Set(brokers.map((x) => x.rack)).size;
        for (let p = 0; p < partitions; p++) {
          const replicas = placer.place(rf);
          expect(replicas).toHaveLength(rf);
          expect(new Set(replicas).size).toBe(rf);
          for (const r of replicas) expect(rackOf.has(r)).toBe(true);
          // The leader (first replica) is always an unfenced broker.
          expect(fenced.has(replicas[0])).toBe(false);
          // In one rack, its unfenced brokers are handed out before its fenced ones (Rack.next).
          const fencedUsed = replicas.filter((r) => fenced.has(r)).length;
          if (rackCount === 1) expect(fencedUsed).toBe(Math.max(0, rf - unfenced.length));
          // Racks are spread: the first pass of the walk visits every rack once (the leader's
          // rack is skipped once), so min(rf, racks) distinct racks hold replicas.
          const perRack = new Map<string | null, number>();
          for (const r of replicas) perRack.set(rackOf.get(r) ?? null, (perRack.get(rackOf.get(r) ?? null) ?? 0) + 1);
          const racksUsed = perRack.size;
          expect(racksUsed).toBe(Math.min(rf, rackCount));
        }
      }),
      { numRuns: 400, seed: 20240607 },
    );
  });

  it('the same seed gives the same placements (determinism)', () => {
    const brokers = [b(1, 'a'), b(2, 'a'), b(3, 'b'), b(4, 'b'), b(5, 'c', true)];
    const run = () => placeN(new StripedReplicaPlacer(Random.fromSeed('placer'), brokers), 10, 3);
    expect(run()).toEqual(run());
  });

  it('leaders rotate: over numUnfenced partitions of rf 1, each unfenced broker leads exactly once', () => {
    // Each place() advances the epoch, and BrokerList.next hands out every broker once per
    // epoch cycle; before the epoch wraps (epoch == numUnfenced), the leaders are a permutation.
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), (seed, racks, perRack) => {
        const brokers: UsableBroker[] = [];
        for (let r = 0; r < racks; r++) for (let i = 0; i < perRack; i++) brokers.push(b(r * 10 + i, `r${r}`));
        const placer = new StripedReplicaPlacer(Random.fromSeed(seed), brokers);
        const leaders = placeN(placer, brokers.length, 1).map((x) => x[0]);
        expect([...leaders].sort((x, y) => x - y)).toEqual(brokers.map((x) => x.id).sort((x, y) => x - y));
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});
