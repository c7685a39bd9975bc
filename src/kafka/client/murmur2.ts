/**
 * Kafka's keyed partitioning: the murmur2 hash of the serialized key, made positive, modulo the
 * topic's partition count. A record keyed in kafkaesque lands on the partition the same key would
 * land on in a real cluster with the same partition count.
 *
 * Sources (apache/kafka):
 * - clients/src/main/java/org/apache/kafka/common/utils/Utils.java: `murmur2`, `toPositive`
 * - clients/src/main/java/org/apache/kafka/clients/producer/internals/BuiltInPartitioner.java:
 *   `partitionForKey`
 * - clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java: `testMurmur2` vectors
 */

/** Java's Integer.MAX_VALUE: Kafka's partition counts and hashes are Java ints. */
const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;

/** Utils.murmur2's seed and mixing constants. */
const MURMUR2_SEED = 0x9747b28c | 0;
const MURMUR2_M = 0x5bd1e995;
const MURMUR2_R = 24;

/** The byte Java writes for an unpaired surrogate when String.getBytes(UTF_8) replaces it: '?'. */
const JAVA_UTF8_REPLACEMENT = 0x3f;

/**
 * Kafka's signed 32-bit murmur2 of a key (Utils.murmur2). A string is hashed as its UTF-8 bytes,
 * which is what Kafka's StringSerializer produces; a Uint8Array is hashed as is.
 */
export function murmur2(key: string | Uint8Array): number {
  const data = keyBytes(key, 'murmur2');
  const length = data.length;
  let h = MURMUR2_SEED ^ length;
  const length4 = length >>> 2;

  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, MURMUR2_M);
    k ^= k >>> MURMUR2_R;
    k = Math.imul(k, MURMUR2_M);
    h = Math.imul(h, MURMUR2_M);
    h ^= k;
  }

  // Utils.murmur2's `switch (length % 4)` falls through from case 3 to case 1; the ifs below are
  // that fall-through written out.
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) {
    h ^= data[tail];
    h = Math.imul(h, MURMUR2_M);
  }

  h ^= h >>> 13;
  h = Math.imul(h, MURMUR2_M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Utils.toPositive: `n & 0x7fffffff`. Not Math.abs: a negative hash keeps its low 31 bits, so
 * -1 becomes 2147483647 and Integer.MIN_VALUE becomes 0. Changing this would move keys.
 */
export function toPositive(n: number): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX) {
    throw new RangeError(`toPositive: n must be a 32-bit signed integer, got ${describe(n)}`);
  }
  return n & INT32_MAX;
}

/**
 * BuiltInPartitioner.partitionForKey: the partition of a keyed record, counting all of the topic's
 * partitions (KafkaProducer.partition passes `cluster.partitionsForTopic(topic).size()`, not only
 * the available ones, so a key does not move while a leader is away).
 */
export function partitionForKey(key: string | Uint8Array, numPartitions: number): number {
  if (typeof numPartitions !== 'number' || !Number.isInteger(numPartitions) || numPartitions < 1 || numPartitions > INT32_MAX) {
    throw new RangeError(`partitionForKey: numPartitions must be a positive integer (at most ${INT32_MAX}), got ${describe(numPartitions)}`);
  }
  return (murmur2(key) & INT32_MAX) % numPartitions;
}

/**
 * The bytes Kafka's StringSerializer (String.getBytes(StandardCharsets.UTF_8)) writes for a key.
 * Written by hand rather than with TextEncoder for one case: Java replaces an unpaired surrogate
 * with '?' (one byte), TextEncoder with U+FFFD (three bytes), and the hash would differ.
 */
export function utf8Bytes(s: string): Uint8Array {
  const out = new Uint8Array(utf8Length(s));
  let at = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      out[at++] = c;
    } else if (c < 0x800) {
      out[at++] = 0xc0 | (c >> 6);
      out[at++] = 0x80 | (c & 0x3f);
    } else if (isHighSurrogate(c) && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(i + 1) - 0xdc00);
      i++;
      out[at++] = 0xf0 | (cp >> 18);
      out[at++] = 0x80 | ((cp >> 12) & 0x3f);
      out[at++] = 0x80 | ((cp >> 6) & 0x3f);
      out[at++] = 0x80 | (cp & 0x3f);
    } else if (isHighSurrogate(c) || isLowSurrogate(c)) {
      out[at++] = JAVA_UTF8_REPLACEMENT;
    } else {
      out[at++] = 0xe0 | (c >> 12);
      out[at++] = 0x80 | ((c >> 6) & 0x3f);
      out[at++] = 0x80 | (c & 0x3f);
    }
  }
  return out;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (isHighSurrogate(c) && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else if (isHighSurrogate(c) || isLowSurrogate(c)) n += 1;
    else n += 3;
  }
  return n;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function keyBytes(key: string | Uint8Array, caller: string): Uint8Array {
  if (typeof key === 'string') return utf8Bytes(key);
  if (key instanceof Uint8Array) return key;
  throw new TypeError(`${caller}: key must be a string or a Uint8Array, got ${describe(key)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'undefined') return String(value);
  return typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
}
