import { describe, expect, it } from 'vitest';
import { ConsumerCluster } from '../../support/consumer-cluster.js';
import type { TopicPartition } from '../../../../src/kafka/protocol/topic-partition.js';

type Tp = TopicPartition;
const key = (tp: Tp) => `${tp.topic}-${tp.partition}`;

function cluster(partitions = 6, seed = 1): ConsumerCluster {
  const c = new ConsumerCluster({ seed, topics: [{ name: 'orders', partitions, replicationFactor: 3 }] });
  c.awaitLeaders();
  c.addProducer();
  return c;
}

/** Every live consumer is STABLE in the same generation. */
function stable(c: ConsumerCluster, n: number): boolean {
  const cs = c.liveConsumers();
  return cs.length === n && cs.every((x) => x.groupState === 'STABLE' && x.generationId === cs[0].generationId && x.appState !== 'idle');
}

describe('consumer group: assignment', () => {
  it('3 consumers on 6 partitions get a full, non-overlapping assignment and consume every record once', () => {
    const c = cluster();
    const values = c.produce(30);
    for (let i = 0; i < 3; i++) c.addConsumer({ topics: ['orders'], config: { 'group.id': 'g', 'auto.offset.reset': 'earliest' } });
    expect(c.runUntil(() => stable(c, 3) && c.liveConsumers().every((x) => x.assignment().length > 0), 20_000)).toBe(true);
    const assignments = c.liveConsumers().map((x) => x.assignment().map(key));
    // RangeAssignor (the first of the default [range, cooperative-sticky]): 2 partitions each.
    expect(assignments.map((a) => a.length)).toEqual([2, 2, 2]);
    expect(new Set(assignments.flat()).size).toBe(6);
    c.runForMs(3000);
    const polled = c.entries('poll').flatMap((e) => e.records as { value: string }[]).map((r) => r.value);
    expect([...polled].sort()).toEqual([...values].sort());
    // The protocol is EAGER with the default assignors (range supports only EAGER).
    expect(c.entries('leader-assignment').every((e) => e.protocol === 'EAGER' && e.assignor === 'range')).toBe(true);
  });

  it('max.poll.records bounds each poll', () => {
    const c = cluster(1);
    const values = c.produce(20, { partition: 0 });
    const id = c.addConsumer({ topics: ['orders'], config: { 'group.id': 'g', 'auto.offset.reset': 'earliest', 'max.poll.records': 3 } });
    c.runForMs(5000);
    const polls = c.entries('poll', id).map((e) => e.records as { value: string; offset: number }[]);
    expect(Math.max(...polls.map((p) => p.length))).toBe(3);
    const offsets = polls.flat().map((r) => r.offset);
    expect(offsets).toEqual(values.map((_, i) => i));
  });
});

describe('consumer group: rebalance protocols (KIP-429)', () => {
  function fourthJoins(strategy: string[]) {
    const c = cluster();
    const config = { 'group.id': 'g', 'auto.offset.reset': 'earliest', 'partition.assignment.strategy': strategy };
    for (let i = 0; i < 3; i++) c.addConsumer({ topics: ['orders'], config });
    expect(c.runUntil(() => stable(c, 3) && c.liveConsumers().every((x) => x.assignment().length === 2), 20_000)).toBe(true);
    const before = new Map(c.liveConsumers().map((x) => [x.memberId, x.assignment().map(key)]));
    const mark = c.world.history.length;
    c.addConsumer({ topics: ['orders'], config });
    expect(c.runUntil(() => stable(c, 4) && c.liveConsumers().reduce((n, x) => n + x.assignment().length, 0) === 6, 20_000)).toBe(true);
    c.runForMs(2000);
    const after = c.world.history.slice(mark).map((h) => ({ ...h.entry, node: h.node }) as Record<string, unknown> & { type: string; node: number });
    return { c, before, after };
  }

  it('eager: every member revokes everything before the new generation is assigned', () => {
    const { c, before, after } = fourthJoins(['range']);
    const revoked = after.filter((e) => e.type === 'rebalance-callback' && e.callback === 'onPartitionsRevoked');
    // Each of the 3 original members revoked all of its partitions.
    expect(revoked.length).toBe(3);
    for (const e of revoked) expect((e.partitions as Tp[]).length).toBe(2);
    const firstAssigned = after.findIndex((e) => e.type === 'rebalance-callback' && e.callback === 'onPartitionsAssigned' && (e.partitions as Tp[]).length > 0);
    const lastRevoked = after.lastIndexOf(revoked[revoked.length - 1]);
    expect(lastRevoked).toBeLessThan(firstAssigned);
    const all = c.liveConsumers().flatMap((x) => x.assignment().map(key));
    expect(new Set(all).size).toBe(6);
    expect(before.size).toBe(3);
  });

  it('cooperative: partitions that stay with their owner are never revoked; a second rebalance hands over the rest', () => {
    const { c, before, after } = fourthJoins(['cooperative-sticky']);
    const revoked = after.filter((e) => e.type === 'rebalance-callback' && e.callback === 'onPartitionsRevoked');
    const finalByMember = new Map(c.liveConsumers().map((x) => [x.memberId, new Set(x.assignment().map(key))]));
    // Only partitions that moved were revoked, and each old member kept at least one partition.
    expect(revoked.length).toBeGreaterThan(0);
    for (const e of revoked) {
      const kept = finalByMember.get(e.memberId as string)!;
      for (const tp of e.partitions as Tp[]) expect(kept.has(key(tp))).toBe(false);
    }
    for (const [member, owned] of before) {
      const kept = [...finalByMember.get(member)!];
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.every((k) => owned.includes(k))).toBe(true);
    }
    const sizes = [...finalByMember.values()].map((s) => s.size).sort();
    expect(sizes).toEqual([1, 1, 2, 2]);
    expect(c.entries('leader-assignment').at(-1)!.protocol).toBe('COOPERATIVE');
    // Two rebalances after the join: the first revokes, the second assigns what was revoked.
    const gens = new Set(after.filter((e) => e.type === 'assignment' && e.reason === 'join-complete').map((e) => e.generation));
    expect(gens.size).toBe(2);
  });
});

describe('consumer: positions and commits', () => {
  it('commitSync after processing, then a restart resumes from the committed offset', () => {
    const c = cluster(1);
    c.produce(10, { partition: 0, prefix: 'a' });
    const id = c.addConsumer({ topics: ['orders'], config: { 'group.id': 'g', 'auto.offset.reset': 'earliest', 'enable.auto.commit': false }, app: { commitMode: 'sync-after-processing' } });
    expect(c.runUntil(() => c.entries('commit', id).some((e) => e.phase === 'ok' && (e.offsets as { offset: number }[])[0].offset === 10), 20_000)).toBe(true);
    expect(c.committedOffset('g', 'orders', 0)).toBe(10);
    c.world.machine(id).crash();
    c.produce(5, { partition: 0, prefix: 'b' });
    c.world.machine(id).start();
    // The crashed member left no LeaveGroup: the rejoin completes once its session (45 s) expires.
    c.runForMs(60_000);
    const polled = c.entries('poll', id).flatMap((e) => e.records as { value: string; offset: number }[]);
    // a0..a9 once (before the crash), then b0..b4 from offset 10: nothing consumed twice.
    expect(polled.map((r) => r.value)).toEqual([...Array.from({ length: 10 }, (_, i) => `a${i}`), ...Array.from({ length: 5 }, (_, i) => `b${i}`)]);
    const fetched = c.entries('offset-fetch', id).at(-1)!.partitions as { offset: number | null }[];
    expect(fetched[0].offset).toBe(10);
  });

  it('a crash between processing and commit reprocesses (at-least-once)', () => {
    const c = cluster(1);
    c.produce(10, { partition: 0 });
    const id = c.addConsumer({ topics: ['orders'], config: { 'group.id': 'g', 'auto.offset.reset': 'earliest', 'enable.auto.commit': false }, app: { commitMode: 'sync-after-processing', processingMs: 100 } });
    expect(c.runUntil(() => c.entries('side-effect', id).length >= 5, 20_000)).toBe(true);
    c.world.machine(id).crash();
    expect(c.entries('commit', id).length).toBe(0);
    c.world.machine(id).start();
    c.runForMs(60_000);
    const effects = c.entries('side-effect', id).map((e) => e.value as string);
    const counts = new Map<string, number>();
    for (const v of effects) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect(counts.size).toBe(10);
    for (let i = 0; i < 5; i++) expect(counts.get(`v${i}`)).toBe(2);
    for (let i = 5; i < 10; i++) expect(counts.get(`v${i}`)).toBe(1);
    expect(c.committedOffset('g', 'orders', 0)).toBe(10);
  });

  it('async processing with auto-commit loses records handed to the worker when the process crashes', () => {
    const c = cluster(1);
    c.produce(10, { partition: 0 });
    const id = c.addConsumer({ topics: ['orders'], config: { 'group.id': 'g', 'auto.offset.reset': 'earliest', 'auto.commit.interval.ms': 1000 }, app: { commitMode: 'async-processing', processingMs: 1000 } });
    expect(c.runUntil(() => c.entries('commit', id).some((e) => e.phase === 'ok' && (e.offsets as { offset: number }[])[0].offset === 10), 20_000)).toBe(true);
    const done = c.entries('side-effect', id).length;
    expect(done).toBeLessThan(10);
    c.world.machine(id).crash();
    c.world.machine(id).start();
    c.runForMs(30_000);
    const effects = new Set(c.entries('side-effect', id).map((e) => e.value as string));
    expect(effects.size).toBe(done); // the rest are never processed: the committed offset passed them
  });

  it.each([
    ['earliest', ['old0', 'old1', 'old2', 'new0', 'new1']],
    ['latest', ['new0', 'new1']],
  ])('auto.offset.reset=%s', (reset, expected) => {
    const c = cluster(1);
    c.produce(3, { partition: 0, prefix: 'old' });
    const id = c.addConsumer({ topics: ['orders'], config: { 'group.id': 'g', 'auto.offset.reset': reset } });
    expect(c.runUntil(() => c.entries('offset-reset', id).length > 0, 20_000)).toBe(true);
    expect(c.entries('offset-reset', id)[0].offset).toBe(reset === 'earliest' ? 0 : 3);
    c.produce(2, { partition: 0, prefix: 'new' });
    c.runForMs(3000);
    expect(c.entries('poll', id).flatMap((e) => e.records as { value: string }[]).map((r) => r.value)).toEqual(expected);
  });

  it('auto.offset.reset=none without a committed offset fails poll() with NoOffsetForPartitionException', () => {
    const c = cluster(1);
    c.produce(3, { partition: 0 });
    const id = c.addConsumer({ topics: ['orders'], config: { 'group.id': 'g', 'auto.offset.reset': 'none' } });
    c.runForMs(10_000);
    const errors = c.entries('consumer-error', id);
    expect(errors.length).toBe(1);
    expect(errors[0].error).toMatch(/^NoOffsetForPartitionException: Undefined offset with no reset policy for partitions: \[orders-0\]/);
    expect(c.entries('poll', id).flatMap((e) => e.records as unknown[]).length).toBe(0);
    expect(c.world.machine(id).state).toBe('stopped');
  });
});

describe('consumer: max.poll.interval.ms (KIP-62)', () => {
  it('a consumer stalled beyond max.poll.interval.ms leaves; its partitions move, and its late processing duplicates side effects', () => {
    const c = cluster(2);
    c.produce(10); // 5 per partition
    const config = { 'group.id': 'g', 'auto.offset.reset': 'earliest', 'enable.auto.commit': false, 'max.poll.interval.ms': 8000 };
    const a = c.addConsumer({ topics: ['orders'], config, app: { commitMode: 'sync-after-processing', processingMs: 1000, stallAtMs: 2500, stallForMs: 15_000 } });
    const b = c.addConsumer({ topics: ['orders'], config, app: { commitMode: 'sync-after-processing', processingMs: 1000 } });
    c.runForMs(40_000);
    const leave = c.entries('leave-group', a);
    expect(leave.length).toBeGreaterThanOrEqual(1);
    expect(leave[0].reason).toBe('consumer poll timeout has expired.');
    // The heartbeat thread left while the application was still stalled.
    const stall = c.entries('app-stall', a)[0];
    expect(stall.appState).toBe('processing');
    expect(leave[0].timeUs).toBeLessThan(stall.timeUs + 15_000_000);
    const aPartition = (c.entries('assignment', a).find((e) => (e.partitions as Tp[]).length > 0)!.partitions as Tp[])[0].partition;
    // B took A's partition over and processed it from the last commit (none: the beginning).
    const bEffects = c.entries('side-effect', b).filter((e) => e.partition === aPartition).map((e) => e.value);
    expect(bEffects.length).toBe(5);
    // A finished the records it held after leaving: duplicates of B's side effects.
    const late = c.entries('side-effect', a).filter((e) => e.timeUs > leave[0].timeUs && e.partition === aPartition);
    expect(late.length).toBeGreaterThan(0);
    for (const e of late) expect(bEffects).toContain(e.value);
    // Its commit after processing fails: it is no longer in the group's generation.
    const aFailed = c.entries('commit', a).filter((e) => e.phase === 'fail');
    expect(aFailed.some((e) => String(e.error).startsWith('CommitFailedException'))).toBe(true);
    // When it polls again, it loses (not revokes) what it held and rejoins as a new member.
    const lost = c.entries('rebalance-callback', a).filter((e) => e.callback === 'onPartitionsLost');
    expect(lost.length).toBe(1);
  });
});

describe('consumer: close', () => {
  it('SIGTERM commits, revokes and leaves the group, so the others take over without waiting for the session timeout', () => {
    const c = cluster(2);
    c.produce(10);
    const config = { 'group.id': 'g', 'auto.offset.reset': 'earliest' };
    const a = c.addConsumer({ topics: ['orders'], config });
    const b = c.addConsumer({ topics: ['orders'], config });
    expect(c.runUntil(() => stable(c, 2) && c.liveConsumers().every((x) => x.assignment().length === 1) && c.entries('side-effect').length === 10, 20_000)).toBe(true);
    const t0 = c.world.nowUs;
    c.world.machine(a).terminate();
    expect(c.runUntil(() => c.consumer(b).assignment().length === 2 && c.consumer(b).groupState === 'STABLE', 10_000)).toBe(true);
    expect(c.world.nowUs - t0).toBeLessThan(5_000_000);
    expect(c.entries('commit', a).filter((e) => e.kind === 'close').map((e) => e.phase)).toEqual(['invoke', 'ok']);
    expect(c.entries('leave-group', a).map((e) => e.reason)).toEqual(['the consumer is being closed']);
    expect(c.entries('rebalance-callback', a).at(-1)!.callback).toBe('onPartitionsRevoked');
    c.runForMs(2000);
    expect(c.world.machine(a).state).toBe('stopped');
    // B resumes A's partition from A's committed offset: nothing is consumed twice.
    const polled = c.entries('poll').flatMap((e) => e.records as { value: string }[]).map((r) => r.value);
    expect(polled.length).toBe(10);
  });
});

describe('consumer: determinism', () => {
  it('the same seed gives the same history and trace hash', () => {
    const run = () => {
      const c = cluster(6, 7);
      c.produce(12);
      for (let i = 0; i < 3; i++) c.addConsumer({ topics: ['orders'], config: { 'group.id': 'g', 'auto.offset.reset': 'earliest' }, app: { processingMs: 5 } });
      c.runForMs(8000);
      return { hash: c.world.traceHash, history: JSON.stringify(c.world.history.filter((h) => h.node >= 3000)) };
    };
    const a = run();
    const b = run();
    expect(a.history).toBe(b.history);
    expect(a.hash).toBe(b.hash);
  });
});
