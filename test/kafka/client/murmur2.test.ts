import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { murmur2, partitionForKey, toPositive, utf8Bytes } from '../../../src/kafka/client/murmur2.js';

const RUNS = process.env.KAFKAESQUE_LONG === '1' ? 20_000 : 500;

/**
 * A second murmur2, written from Utils.murmur2 with BigInt arithmetic mod 2^32 instead of
 * Math.imul and sign tricks, to check the fast one against.
 */
function murmur2Reference(data: Uint8Array): number {
  const MOD = 1n << 32n;
  const u32 = (x: bigint) => ((x % MOD) + MOD) % MOD;
  const m = 0x5bd1e995n;
  let h = u32(0x9747b28cn ^ BigInt(data.length));
  const length4 = Math.floor(data.length / 4);
  for (let i = 0; i < length4; i++) {
    let k = BigInt(data[4 * i]) + (BigInt(data[4 * i + 1]) << 8n) + (BigInt(data[4 * i + 2]) << 16n) + (BigInt(data[4 * i + 3]) << 24n);
    k = u32(k * m);
    k ^= k >> 24n;
    k = u32(k * m);
    h = u32(h * m);
    h ^= k;
  }
  const tail = length4 * 4;
  const rest = data.length % 4;
  if (rest >= 3) h ^= BigInt(data[tail + 2]) << 16n;
  if (rest >= 2) h ^= BigInt(data[tail + 1]) << 8n;
  if (rest >= 1) {
    h ^= BigInt(data[tail]);
    h = u32(h * m);
  }
  h ^= h >> 13n;
  h = u32(h * m);
  h ^= h >> 15n;
  return Number(BigInt.asIntN(32, h));
}

describe('murmur2 matches Kafka (UtilsTest.testMurmur2)', () => {
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ])('murmur2(%j) = %i', (key, expected) => {
    expect(murmur2(key)).toBe(expected);
    expect(murmur2(new TextEncoder().encode(key))).toBe(expected);
  });

  it('murmur2(bytes [97, 98, 99]) = 479470107', () => {
    expect(murmur2(new Uint8Array([97, 98, 99]))).toBe(479470107);
  });

  it('accepts a Node Buffer, which is a Uint8Array', () => {
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
  });

  it('hashes the empty key (a non-null empty key is hashed, not sent to the sticky partitioner)', () => {
    expect(murmur2('')).toBe(murmur2(new Uint8Array(0)));
    expect(murmur2('')).toBe(murmur2Reference(new Uint8Array(0)));
  });

  it('agrees with a BigInt reference implementation on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(murmur2(bytes)).toBe(murmur2Reference(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it('returns a signed 32-bit integer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const h = murmur2(bytes);
        expect(Number.isInteger(h) && h >= -(2 ** 31) && h < 2 ** 31).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('string keys are hashed as their UTF-8 bytes (StringSerializer)', () => {
  it('a multi-byte key hashes like its UTF-8 encoding', () => {
    const key = 'clé-€-日本-😀';
    const bytes = new TextEncoder().encode(key);
    expect(Array.from(utf8Bytes(key))).toEqual(Array.from(bytes));
    expect(bytes.length).toBe(20);
    expect(murmur2(key)).toBe(murmur2(bytes));
    expect(murmur2(key)).toBe(murmur2Reference(bytes));
  });

  it('well-formed strings encode exactly as TextEncoder does', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (s) => {
        const bytes = new TextEncoder().encode(s);
        expect(Array.from(utf8Bytes(s))).toEqual(Array.from(bytes));
        expect(murmur2(s)).toBe(murmur2(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it("an unpaired surrogate becomes '?' as in Java's String.getBytes(UTF_8), not U+FFFD", () => {
    expect(Array.from(utf8Bytes('a\ud800b'))).toEqual([97, 63, 98]);
    expect(Array.from(utf8Bytes('\udc00'))).toEqual([63]);
    expect(Array.from(utf8Bytes('x\ud83d'))).toEqual([120, 63]);
    expect(murmur2('a\ud800b')).toBe(murmur2(new Uint8Array([97, 63, 98])));
  });
});

describe('toPositive is Utils.toPositive (n & 0x7fffffff), not Math.abs', () => {
  it.each([
    [0, 0],
    [5, 5],
    [2147483647, 2147483647],
    [-1, 2147483647],
    [-2147483648, 0],
    [-973932308, 1173551340],
  ])('toPositive(%i) = %i', (n, expected) => {
    expect(toPositive(n)).toBe(expected);
  });

  it('rejects numbers that are not 32-bit signed integers', () => {
    expect(() => toPositive(1.5)).toThrow(RangeError);
    expect(() => toPositive(2 ** 31)).toThrow(/32-bit signed integer/);
    expect(() => toPositive(Number.NaN)).toThrow(RangeError);
  });
});

describe('partitionForKey is toPositive(murmur2(key)) % numPartitions', () => {
  it.each([
    ['21', 6, 0],
    ['21', 100, 40],
    ['foobar', 10, 6],
    ['foobar', 12, 6],
    ['a-little-bit-long-string', 3, 2],
    ['a-little-bit-longer-string', 6, 5],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', 10, 7],
  ])('partitionForKey(%j, %i) = %i', (key, n, expected) => {
    expect(partitionForKey(key, n)).toBe(expected);
  });

  it('bytes [97, 98, 99] over 12 partitions go to partition 3', () => {
    expect(partitionForKey(new Uint8Array([97, 98, 99]), 12)).toBe(3);
  });

  it('a single partition takes every key', () => {
    expect(partitionForKey('anything', 1)).toBe(0);
  });

  it('lies in [0, n) and equals toPositive(murmur2(key)) % n, for string and byte keys', () => {
    const keyArb = fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }));
    fc.assert(
      fc.property(keyArb, fc.integer({ min: 1, max: 2 ** 31 - 1 }), (key, n) => {
        const p = partitionForKey(key, n);
        expect(Number.isInteger(p) && p >= 0 && p < n).toBe(true);
        expect(p).toBe(toPositive(murmur2(key)) % n);
      }),
      { numRuns: RUNS },
    );
  });

  it('a string key and its UTF-8 bytes land on the same partition', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), fc.integer({ min: 1, max: 1000 }), (key, n) => {
        expect(partitionForKey(key, n)).toBe(partitionForKey(new TextEncoder().encode(key), n));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('bad inputs throw errors that name the argument', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31])('partitionForKey(key, %s) is a RangeError', (n) => {
    expect(() => partitionForKey('k', n)).toThrow(RangeError);
    expect(() => partitionForKey('k', n)).toThrow(/numPartitions must be a positive integer/);
  });

  it('numPartitions given as a string is rejected', () => {
    expect(() => partitionForKey('k', '3' as unknown as number)).toThrow(/numPartitions must be a positive integer.*got "3"/);
  });

  it.each([
    [null, /murmur2: key must be a string or a Uint8Array, got null/],
    [undefined, /got undefined/],
    [42, /got 42/],
    [[97, 98], /got Array/],
    [new ArrayBuffer(2), /got ArrayBuffer/],
  ])('murmur2(%s) is a TypeError', (key, message) => {
    expect(() => murmur2(key as unknown as string)).toThrow(TypeError);
    expect(() => murmur2(key as unknown as string)).toThrow(message);
  });

  it('partitionForKey rejects a bad key with a TypeError', () => {
    expect(() => partitionForKey(null as unknown as string, 3)).toThrow(TypeError);
  });
});
