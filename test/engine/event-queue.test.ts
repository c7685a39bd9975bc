import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventQueue } from '../../src/engine/event-queue.js';
import { SimulationError } from '../../src/engine/errors.js';

/** A reference model: a plain list sorted by (time, sequence). */
interface Ref {
  timeUs: number;
  seq: number;
  handle: number;
}

type Op =
  | { op: 'push'; delayUs: number }
  | { op: 'pop' }
  | { op: 'cancel'; pick: number }
  | { op: 'popUntil'; aheadUs: number };

/** Delays mix ties (0), the level-0 window, every upper level, and times past 2^32 µs. */
const delayArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 3 }),
  fc.integer({ min: 0, max: 70_000 }),
  fc.integer({ min: 0, max: 20_000_000 }),
  fc.integer({ min: 0, max: 2 ** 36 }),
  fc.integer({ min: 0, max: 2 ** 50 }),
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: delayArb.map((delayUs) => ({ op: 'push' as const, delayUs })) },
  { weight: 4, arbitrary: fc.constant({ op: 'pop' as const }) },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ op: 'cancel' as const, pick })) },
  { weight: 1, arbitrary: delayArb.map((aheadUs) => ({ op: 'popUntil' as const, aheadUs })) },
);

function runAgainstReference(ops: Op[], startUs: number): void {
  const q = new EventQueue(16);
  const ref: Ref[] = [];
  const fired: number[] = [];
  let nowUs = startUs;
  let seq = 0;
  const popRef = (): Ref | undefined => {
    let best = -1;
    for (let i = 0; i < ref.length; i++) {
      if (best < 0 || ref[i].timeUs < ref[best].timeUs || (ref[i].timeUs === ref[best].timeUs && ref[i].seq < ref[best].seq)) best = i;
    }
    return best < 0 ? undefined : ref.splice(best, 1)[0];
  };
  for (const o of ops) {
    if (o.op === 'push') {
      const timeUs = Math.min(nowUs + o.delayUs, Number.MAX_SAFE_INTEGER);
      const handle = q.push(timeUs);
      ref.push({ timeUs, seq: seq++, handle });
    } else if (o.op === 'pop' || o.op === 'popUntil') {
      const limit = o.op === 'pop' ? Infinity : nowUs + o.aheadUs;
      const expected = ref.length === 0 ? undefined : [...ref].sort((a, b) => a.timeUs - b.timeUs || a.seq - b.seq)[0];
      const index = o.op === 'pop' ? q.pop() : q.popUntil(limit);
      if (expected === undefined || expected.timeUs > limit) {
        expect(index).toBe(-1);
        if (o.op === 'popUntil') nowUs = limit; // the caller's clock stands at the limit
        continue;
      }
      const got = popRef()!;
      expect(index).toBe(EventQueue.indexOf(got.handle));
      expect(q.lastPoppedUs).toBe(got.timeUs);
      expect(q.isPending(got.handle)).toBe(false);
      nowUs = got.timeUs;
      fired.push(got.handle);
    } else {
      if (ref.length > 0 && o.pick % 3 !== 0) {
        const victim = ref.splice(o.pick % ref.length, 1)[0];
        expect(q.cancel(victim.handle)).toBe(true);
        expect(q.cancel(victim.handle)).toBe(false);
      } else if (fired.length > 0) {
        // A stale handle (already fired, its index maybe reused) cancels nothing.
        expect(q.cancel(fired[o.pick % fired.length])).toBe(false);
      }
    }
    expect(q.size).toBe(ref.length);
  }
  const expectedTimes = [...ref].sort((a, b) => a.timeUs - b.timeUs || a.seq - b.seq);
  expect(q.peekTimeUs()).toBe(expectedTimes.length ? expectedTimes[0].timeUs : Infinity);
  for (const e of expectedTimes) {
    expect(q.pop()).toBe(EventQueue.indexOf(e.handle));
    expect(q.lastPoppedUs).toBe(e.timeUs);
  }
  expect(q.pop()).toBe(-1);
}

describe('EventQueue', () => {
  it('pops in (time, insertion) order under random push, pop, popUntil and cancel', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 400 }), fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 45 })), (ops, startUs) => {
        runAgainstReference(ops, startUs);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps first-in first-out order among many events at one instant, across cascades', () => {
    const q = new EventQueue();
    const handles: number[] = [];
    for (let i = 0; i < 5000; i++) handles.push(q.push(123_456_789_012));
    for (let i = 0; i < 5000; i++) q.push(1 + i * 7919);
    for (let i = 0; i < 5000; i++) q.pop();
    for (const h of handles) expect(q.pop()).toBe(EventQueue.indexOf(h));
  });

  it('peekTimeUs does not disturb later scheduling before that time', () => {
    const q = new EventQueue();
    q.push(10_000_000);
    expect(q.peekTimeUs()).toBe(10_000_000);
    expect(q.popUntil(5_000)).toBe(-1);
    const h = q.push(6_000); // earlier than the pending event, later than the stop time
    expect(q.pop()).toBe(EventQueue.indexOf(h));
    expect(q.lastPoppedUs).toBe(6_000);
  });

  it('rejects times in the past, NaN, negative and infinite times (the Simulator also rejects fractions)', () => {
    const q = new EventQueue();
    q.push(1000);
    q.pop();
    expect(() => q.push(999)).toThrow(SimulationError);
    expect(() => q.push(Number.NaN)).toThrow(SimulationError);
    expect(() => q.push(-1)).toThrow(SimulationError);
    expect(() => q.push(Infinity)).toThrow(SimulationError);
  });

  it('treats garbage handles as not pending', () => {
    const q = new EventQueue();
    expect(q.cancel(-5)).toBe(false);
    expect(q.cancel(Number.NaN)).toBe(false);
    expect(q.cancel(1e15)).toBe(false);
    expect(q.isPending(0)).toBe(false);
  });
});
