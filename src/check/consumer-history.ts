import type { Violation } from './violation.js';

/** A history entry as the world records it: when, which node, what. */
export interface HistoryItem {
  readonly timeUs: number;
  readonly node: number;
  readonly entry: { readonly type: string } & Record<string, unknown>;
}

interface PolledRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
}

/**
 * `nonmonotonic-poll` and `poll-skip` (Jepsen's Kafka checker), per consumer process and
 * partition, between two consecutive polls that returned records of the partition with no change
 * of assignment, position reset or restart between them (each of those may legitimately move the
 * position): the next poll must start exactly one past the last offset the previous one returned.
 * Starting at or before it is `nonmonotonic-poll` (offsets read again or out of order); starting
 * after it is `poll-skip` (offsets never returned to this consumer). Offsets in this model are
 * contiguous (no compaction, no transaction markers), so any gap is a skip.
 */
export function checkPollOrder(history: readonly HistoryItem[], nodeName: (id: number) => string): Violation[] {
  const out: Violation[] = [];
  /** "node/topic-partition" → the last offset returned */
  const last = new Map<string, { offset: number; atMs: number }>();
  const forgetNode = (node: number) => {
    for (const key of [...last.keys()]) if (key.startsWith(`${node}/`)) last.delete(key);
  };
  for (const { timeUs, node, entry } of history) {
    switch (entry.type) {
      case 'assignment':
      case 'subscribe':
      case 'close':
      case 'generation-reset':
        forgetNode(node);
        continue;
      case 'offset-reset':
      case 'truncation-detected':
      case 'offset-out-of-range':
        last.delete(`${node}/${String(entry.topic)}-${Number(entry.partition)}`);
        continue;
      case 'poll':
        break;
      default:
        continue;
    }
    const atMs = timeUs / 1000;
    const records = (entry.records ?? []) as PolledRecord[];
    const firstOf = new Map<string, PolledRecord>();
    for (const r of records) {
      const tp = `${r.topic}-${r.partition}`;
      if (!firstOf.has(tp)) firstOf.set(tp, r);
      const prev = last.get(`${node}/${tp}`);
      const expected = prev === undefined ? undefined : prev.offset + 1;
      if (expected !== undefined && r.offset !== expected) {
        const skip = r.offset > expected;
        out.push({
          check: skip ? 'poll-skip' : 'nonmonotonic-poll',
          atMs,
          partition: tp,
          offset: r.offset,
          message: skip
            ? `${nodeName(node)} read ${tp} up to offset ${prev!.offset}, then from ${r.offset}: offsets ${expected}–${r.offset - 1} were skipped`
            : `${nodeName(node)} read ${tp} up to offset ${prev!.offset}, then offset ${r.offset} again`,
          evidence: { consumer: nodeName(node), partition: tp, previous: prev!.offset, next: r.offset, previousAtMs: prev!.atMs },
        });
      }
      last.set(`${node}/${tp}`, { offset: r.offset, atMs });
    }
  }
  return out;
}

/**
 * `duplicate-processing`: a record's side effect reached the outside world more than once in one
 * consumer group (at-least-once delivery: a consumer crashed or was evicted between processing
 * and committing, and the next owner of the partition processed the record again). Kafka without
 * transactions permits it; the finding counts how often it happened.
 */
export function checkDuplicateProcessing(history: readonly HistoryItem[]): Violation[] {
  const counts = new Map<string, { group: string; tp: string; offset: number; value: string; times: number; atMs: number; consumers: Set<number> }>();
  for (const { timeUs, node, entry } of history) {
    if (entry.type !== 'side-effect') continue;
    const tp = `${String(entry.topic)}-${Number(entry.partition)}`;
    const key = `${String(entry.group)}/${tp}/${Number(entry.offset)}`;
    const c = counts.get(key);
    if (c === undefined) counts.set(key, { group: String(entry.group), tp, offset: Number(entry.offset), value: String(entry.value), times: 1, atMs: timeUs / 1000, consumers: new Set([node]) });
    else {
      c.times++;
      c.atMs = timeUs / 1000;
      c.consumers.add(node);
    }
  }
  const out: Violation[] = [];
  for (const c of counts.values()) {
    if (c.times < 2) continue;
    out.push({
      check: 'duplicate-processing',
      atMs: c.atMs,
      partition: c.tp,
      offset: c.offset,
      message: `group ${c.group} processed ${c.value} (${c.tp} offset ${c.offset}) ${c.times} times`,
      evidence: { group: c.group, partition: c.tp, offset: c.offset, value: c.value, times: c.times, consumers: [...c.consumers] },
    });
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

/**
 * `lost-processing`: the group committed past a record that no member of the group ever
 * processed. The next owner of the partition starts at the committed offset, so the record's side
 * effect never happens. Auto-commit with processing handed to another thread permits it: the
 * commit covers what poll() returned, not what was processed. `logs` is each partition's log after
 * healing (offset → value), so records lost from the log itself are not counted here.
 */
export function checkLostProcessing(history: readonly HistoryItem[], logs: ReadonlyMap<string, ReadonlyMap<number, string>>): Violation[] {
  const processed = new Set<string>();
  /** "group/topic-partition" → highest acknowledged committed offset, and when */
  const committed = new Map<string, { offset: number; atMs: number }>();
  for (const { timeUs, entry } of history) {
    if (entry.type === 'side-effect') processed.add(`${String(entry.group)}/${String(entry.topic)}-${Number(entry.partition)}/${Number(entry.offset)}`);
    else if (entry.type === 'offset-commit' && typeof entry.offset === 'number') {
      const key = `${String(entry.groupId)}/${String(entry.topic)}-${Number(entry.partition)}`;
      const before = committed.get(key);
      if (before === undefined || entry.offset > before.offset) committed.set(key, { offset: entry.offset, atMs: timeUs / 1000 });
    }
  }
  const out: Violation[] = [];
  for (const [key, c] of committed) {
    const slash = key.indexOf('/');
    const group = key.slice(0, slash);
    const tp = key.slice(slash + 1);
    const log = logs.get(tp);
    if (log === undefined) continue;
    const missing: number[] = [];
    for (let offset = 0; offset < c.offset; offset++) if (log.has(offset) && !processed.has(`${group}/${tp}/${offset}`)) missing.push(offset);
    if (missing.length === 0) continue;
    out.push({
      check: 'lost-processing',
      atMs: c.atMs,
      partition: tp,
      offset: missing[0],
      message: `group ${group} committed ${tp} up to offset ${c.offset}, but never processed ${missing.length} record(s) below it, first at offset ${missing[0]} (${log.get(missing[0])})`,
      evidence: { group, partition: tp, committed: c.offset, missing: missing.length, firstMissing: missing[0], value: log.get(missing[0]) },
    });
  }
  return out;
}

/**
 * `unseen` (Jepsen's Kafka checker, a liveness check): after every fault healed and the liveness
 * phase ran, a record a producer was told is written, and that the log still holds, was never
 * returned by a poll to any member of a group subscribed to its topic. Records below the group's
 * first position in a partition (where it started: a committed offset, or auto.offset.reset=latest
 * when it first had none) are not the group's to read. `groups` maps each group to its topics;
 * `kept` says whether the final log holds the value at its acknowledged offset.
 */
export function checkUnseen(
  history: readonly HistoryItem[],
  groups: ReadonlyMap<string, readonly string[]>,
  kept: (partition: string, offset: number, value: string) => boolean,
): Violation[] {
  const polled = new Map<string, Set<string>>();
  /** "group/topic-partition" → the group's first position there */
  const firstPosition = new Map<string, number>();
  const position = (group: string, tp: string, offset: unknown) => {
    if (typeof offset === 'number' && !firstPosition.has(`${group}/${tp}`)) firstPosition.set(`${group}/${tp}`, offset);
  };
  for (const { entry } of history) {
    if (entry.type === 'offset-reset') position(String(entry.group), `${String(entry.topic)}-${Number(entry.partition)}`, entry.offset);
    else if (entry.type === 'offset-fetch') {
      for (const p of (entry.partitions ?? []) as { topic: string; partition: number; offset: number | null }[]) if (p.offset !== null) position(String(entry.group), `${p.topic}-${p.partition}`, p.offset);
    }
    if (entry.type !== 'poll') continue;
    let seen = polled.get(String(entry.group));
    if (seen === undefined) polled.set(String(entry.group), (seen = new Set()));
    for (const r of (entry.records ?? []) as PolledRecord[]) seen.add(r.value);
  }
  const out: Violation[] = [];
  for (const [group, topics] of groups) {
    const seen = polled.get(group) ?? new Set<string>();
    let count = 0;
    let first: { atMs: number; partition: string; offset: number; value: string } | undefined;
    for (const { timeUs, entry } of history) {
      if (entry.type !== 'send' || entry.phase !== 'ok' || !topics.includes(String(entry.topic))) continue;
      const value = String(entry.value);
      const partition = `${String(entry.topic)}-${Number(entry.partition)}`;
      if (seen.has(value) || !kept(partition, Number(entry.offset), value)) continue;
      if (Number(entry.offset) < (firstPosition.get(`${group}/${partition}`) ?? 0)) continue;
      count++;
      first ??= { atMs: timeUs / 1000, partition, offset: Number(entry.offset), value };
    }
    if (first === undefined) continue;
    out.push({
      check: 'unseen',
      atMs: first.atMs,
      partition: first.partition,
      offset: first.offset,
      message: `group ${group} never polled ${count} acknowledged record(s) that the log still holds, first ${first.value} (${first.partition} offset ${first.offset}, acknowledged at ${first.atMs.toFixed(3)} ms)`,
      evidence: { group, count, first },
    });
  }
  return out;
}
