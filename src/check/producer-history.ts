import type { Violation } from './violation.js';

/** A history entry as the world records it: when, which node, what. */
export interface HistoryItem {
  readonly timeUs: number;
  readonly node: number;
  readonly entry: { readonly type: string } & Record<string, unknown>;
}

/**
 * `duplicate` (Jepsen's Kafka checker): one value at two offsets of a partition's log, as read
 * after every fault has healed. Values are unique per send, so a second copy can only come from
 * a retry the broker appended twice (no idempotence) or a client that sent it twice.
 * `logs` maps each partition to its values in offset order (with their offsets).
 */
export function checkDuplicates(logs: ReadonlyMap<string, readonly { offset: number; value: string }[]>): Violation[] {
  const out: Violation[] = [];
  for (const [partition, records] of logs) {
    const first = new Map<string, number[]>();
    for (const r of records) {
      const seen = first.get(r.value);
      if (seen === undefined) first.set(r.value, [r.offset]);
      else seen.push(r.offset);
    }
    for (const [value, offsets] of first) {
      if (offsets.length < 2) continue;
      out.push({
        check: 'duplicate',
        atMs: 0,
        partition,
        offset: offsets[1],
        message: `${value} is in ${partition} ${offsets.length} times, at offsets ${offsets.join(', ')}`,
        evidence: { value, partition, offsets },
      });
    }
  }
  return out;
}

/**
 * `nonmonotonic-send` (Jepsen's Kafka checker): a producer's acknowledged sends to one partition
 * were written out of the order it sent them: a record sent later got a lower offset than one
 * sent before it. Kafka promises send order per partition only with idempotence (or with
 * max.in.flight.requests.per.connection = 1); retries of an earlier batch behind a later one
 * break it otherwise. Read from the producers' `send` history: `invoke` order, then `ok` offsets.
 * Only records the log still holds at their acknowledged offset count (`kept`): one that is gone
 * is a `lost-write`, and its offset, reused by the next leader, says nothing about order.
 */
export function checkNonmonotonicSends(history: readonly HistoryItem[], nodeName: (id: number) => string, kept: (partition: string, offset: number, value: string) => boolean = () => true): Violation[] {
  const out: Violation[] = [];
  /** producer → value → send order */
  const order = new Map<number, Map<string, number>>();
  /** "producer/partition" → acked sends */
  const acked = new Map<string, { seq: number; offset: number; value: string; atMs: number; node: number; partition: string }[]>();
  for (const { timeUs, node, entry } of history) {
    if (entry.type !== 'send') continue;
    const value = String(entry.value);
    if (entry.phase === 'invoke') {
      let m = order.get(node);
      if (m === undefined) order.set(node, (m = new Map()));
      m.set(value, m.size);
    } else if (entry.phase === 'ok') {
      const partition = `${String(entry.topic)}-${Number(entry.partition)}`;
      if (!kept(partition, Number(entry.offset), value)) continue;
      const key = `${node}/${partition}`;
      let list = acked.get(key);
      if (list === undefined) acked.set(key, (list = []));
      list.push({ seq: order.get(node)?.get(value) ?? -1, offset: Number(entry.offset), value, atMs: timeUs / 1000, node, partition });
    }
  }
  for (const list of acked.values()) {
    list.sort((a, b) => a.seq - b.seq);
    let highest = list[0];
    for (const s of list.slice(1)) {
      if (s.offset < highest.offset) {
        out.push({
          check: 'nonmonotonic-send',
          atMs: s.atMs,
          partition: s.partition,
          offset: s.offset,
          message: `${nodeName(s.node)} sent ${highest.value} before ${s.value}, but ${s.partition} has them at offsets ${highest.offset} and ${s.offset}`,
          evidence: { producer: nodeName(s.node), partition: s.partition, earlier: { value: highest.value, offset: highest.offset }, later: { value: s.value, offset: s.offset } },
        });
      } else highest = s;
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

/**
 * `inconsistent-offsets` (Jepsen's Kafka checker): two different values were reported at one
 * offset of a partition: two acknowledgements (after a leader lost its tail and the offset was
 * reused) or, with consumers, two reads. Every such pair means at least one client saw a record
 * that the log no longer has at that offset.
 */
export function checkInconsistentOffsets(history: readonly HistoryItem[]): Violation[] {
  const out: Violation[] = [];
  const seen = new Map<string, { value: string; atMs: number; node: number }>();
  const reported = new Set<string>();
  const note = (partition: string, offset: number, value: string, atMs: number, node: number) => {
    const key = `${partition}@${offset}`;
    const before = seen.get(key);
    if (before === undefined) return void seen.set(key, { value, atMs, node });
    if (before.value === value || reported.has(key)) return;
    reported.add(key);
    out.push({
      check: 'inconsistent-offsets',
      atMs,
      partition,
      offset,
      message: `${partition} offset ${offset} was reported holding ${before.value} (at ${before.atMs.toFixed(3)} ms) and ${value} (at ${atMs.toFixed(3)} ms)`,
      evidence: { partition, offset, values: [before.value, value], atMs: [before.atMs, atMs] },
    });
  };
  for (const { timeUs, node, entry } of history) {
    if (entry.type === 'send' && entry.phase === 'ok') note(`${String(entry.topic)}-${Number(entry.partition)}`, Number(entry.offset), String(entry.value), timeUs / 1000, node);
    else if (entry.type === 'poll') {
      for (const r of (entry.records ?? []) as { topic: string; partition: number; offset: number; value: string }[]) note(`${r.topic}-${r.partition}`, r.offset, r.value, timeUs / 1000, node);
    }
  }
  return out;
}

/**
 * `lost-unacknowledged-write`: a send that completed without an acknowledgement because none was
 * asked for (acks=0: the producer counts a record as sent once it is on the socket) is absent from
 * every partition of its topic after healing. Kafka promises nothing for such a record; the check
 * makes the fire-and-forget loss visible. `logOf` gives the values a topic's partitions hold.
 */
export function checkLostUnacknowledgedWrites(history: readonly HistoryItem[], valuesOf: (topic: string) => ReadonlySet<string>, nodeName: (id: number) => string): Violation[] {
  const lost: { atMs: number; node: number; topic: string; partition?: number; value: string }[] = [];
  for (const { timeUs, node, entry } of history) {
    if (entry.type !== 'send' || entry.phase !== 'info' || entry.acks !== 0) continue;
    const topic = String(entry.topic);
    const value = String(entry.value);
    if (valuesOf(topic).has(value)) continue;
    lost.push({ atMs: timeUs / 1000, node, topic, partition: typeof entry.partition === 'number' ? entry.partition : undefined, value });
  }
  return lost.map((l) => ({
    check: 'lost-unacknowledged-write',
    atMs: l.atMs,
    ...(l.partition !== undefined ? { partition: `${l.topic}-${l.partition}` } : {}),
    message: `${nodeName(l.node)} sent ${l.value} to ${l.partition !== undefined ? `${l.topic}-${l.partition}` : l.topic} with acks=0 (never acknowledged), and after healing no partition holds it`,
    evidence: { value: l.value, topic: l.topic, producer: nodeName(l.node), sentAtMs: l.atMs },
  }));
}
