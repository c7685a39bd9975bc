/**
 * The iteration order of Java's HashMap and HashSet, for the places where Kafka's assignors iterate
 * one and the result depends on it.
 *
 * Java's order is deterministic for String and TopicPartition keys: String.hashCode and
 * TopicPartition.hashCode are specified, and a HashMap iterates its table bucket by bucket
 * (bucket = spread(hash) & (capacity - 1), spread(h) = h ^ (h >>> 16)), each bucket in insertion
 * order. A default-constructed map starts with 16 buckets and doubles when its size exceeds 0.75 of
 * its capacity, or when a bucket that already holds 8 entries gets another while the table is
 * smaller than 64 (treeifyBin). Removals never shrink it.
 *
 * Not modelled: tree bins (a bucket with more than 8 entries in a table of 64 buckets or more),
 * whose iteration order differs. With String and TopicPartition hashes that needs 9 colliding keys
 * and is not expected in practice.
 *
 * Java sources: java.util.HashMap (putVal, resize, treeifyBin, hash), java.lang.String.hashCode,
 * Kafka: clients/src/main/java/org/apache/kafka/common/TopicPartition.java (hashCode).
 */
import type { TopicPartition } from './types.js';

const DEFAULT_INITIAL_CAPACITY = 16;
const LOAD_FACTOR = 0.75;
const TREEIFY_THRESHOLD = 8;
const MIN_TREEIFY_CAPACITY = 64;

/** Java's String.hashCode: s[0]*31^(n-1) + … + s[n-1] over UTF-16 code units, in 32-bit ints. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's TopicPartition.hashCode: 31 * (31 + partition) + topic.hashCode(). */
export function topicPartitionHashCode(tp: TopicPartition): number {
  return (Math.imul(31, 31 + tp.partition) + javaStringHashCode(tp.topic)) | 0;
}

/** HashMap.hash: the high half of the hash folded into the low half. */
function spread(h: number): number {
  return (h ^ (h >>> 16)) | 0;
}

interface Entry<T> {
  readonly value: T;
  readonly bucketHash: number;
  readonly seq: number;
}

/**
 * A Java HashSet (or the key set of a HashMap) reduced to what decides its iteration order: the
 * table capacity and the insertion order of the entries present. Keys are compared by `key(value)`.
 */
export class JavaHashOrder<T> {
  private capacity = DEFAULT_INITIAL_CAPACITY;
  private nextSeq = 0;
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly hashOf: (value: T) => number,
    private readonly keyOf: (value: T) => string,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(value: T): boolean {
    return this.entries.has(this.keyOf(value));
  }

  /** HashMap.putVal for a new key; an existing key keeps its place, as in Java. */
  add(value: T): void {
    const key = this.keyOf(value);
    if (this.entries.has(key)) return;
    const bucketHash = spread(this.hashOf(value));
    if (this.bucketSize(bucketHash) >= TREEIFY_THRESHOLD && this.capacity < MIN_TREEIFY_CAPACITY) {
      this.capacity *= 2; // treeifyBin on a small table resizes instead
    }
    this.entries.set(key, { value, bucketHash, seq: this.nextSeq++ });
    if (this.entries.size > this.capacity * LOAD_FACTOR) this.capacity *= 2;
  }

  remove(value: T): boolean {
    return this.entries.delete(this.keyOf(value));
  }

  /** The values in Java's iteration order. */
  values(): T[] {
    const mask = this.capacity - 1;
    return [...this.entries.values()]
      .sort((a, b) => (a.bucketHash & mask) - (b.bucketHash & mask) || a.seq - b.seq)
      .map((e) => e.value);
  }

  /** The first value Java's iterator returns (`iterator().next()`), or undefined when empty. */
  first(): T | undefined {
    const mask = this.capacity - 1;
    let best: Entry<T> | undefined;
    for (const e of this.entries.values()) {
      if (best === undefined) {
        best = e;
        continue;
      }
      const d = (e.bucketHash & mask) - (best.bucketHash & mask);
      if (d < 0 || (d === 0 && e.seq < best.seq)) best = e;
    }
    return best?.value;
  }

  private bucketSize(bucketHash: number): number {
    const mask = this.capacity - 1;
    let n = 0;
    for (const e of this.entries.values()) if ((e.bucketHash & mask) === (bucketHash & mask)) n++;
    return n;
  }
}

/**
 * The order in which a default-constructed Java HashMap<String, …> (or HashSet<String>) iterates
 * its keys after they were put in the given order.
 */
export function javaHashOrderOfStrings(keysInInsertionOrder: readonly string[]): string[] {
  const order = new JavaHashOrder<string>(javaStringHashCode, (s) => s);
  for (const k of keysInInsertionOrder) order.add(k);
  return order.values();
}
