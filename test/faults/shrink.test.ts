import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { drawFaultSchedule, type FaultSpec } from '../../src/faults/random-nemesis.js';
import { shrinkSchedule } from '../../src/faults/shrink.js';

const options = { brokers: 3, partitions: ['orders-0'], producers: true, kinds: ['crash', 'pause', 'partition', 'isolate'] as const, maxFaults: 12, meanIntervalMs: 1_000, window: { startMs: 0, stopMs: 30_000 } };

describe('shrinking a failing fault schedule', () => {
  it('finds the one fault that matters, at its shortest failing duration', async () => {
    fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1_000_000 }), async (seed) => {
        const faults = drawFaultSchedule({ ...options, kinds: [...options.kinds] }, seed);
        const culprit = faults.findIndex((f) => f.for !== undefined && f.for >= 1_000_000);
        fc.pre(culprit >= 0);
        const target = faults[culprit];
        // "Fails" while the culprit is there and lasts at least 400 ms.
        const fails = async (c: FaultSpec[]) => c.some((f) => f.at === target.at && faultKey(f) === faultKey(target) && (f.for ?? 0) >= 400_000);
        const r = await shrinkSchedule(faults, fails);
        expect(r.faults).toHaveLength(1);
        expect(r.faults[0].at).toBe(target.at);
        expect(r.faults[0].for).toBeGreaterThanOrEqual(400_000);
        expect(r.faults[0].for).toBeLessThan(800_000);
        expect(r.runs).toBeLessThan(60);
        // Deterministic: shrinking again gives the same result.
        expect((await shrinkSchedule(faults, fails)).faults).toEqual(r.faults);
      }),
      { numRuns: 30 },
    );
  });

  it('keeps pairs that fail only together', async () => {
    const faults = drawFaultSchedule({ ...options, kinds: [...options.kinds], maxFaults: 12 }, 7);
    expect(faults.length).toBeGreaterThanOrEqual(4);
    const [a, b] = [faults[1], faults[faults.length - 1]];
    const r = await shrinkSchedule(faults, async (c) => c.some((f) => f.at === a.at) && c.some((f) => f.at === b.at));
    expect(r.faults.map((f) => f.at)).toEqual([a.at, b.at]);
  });

  it('stops at its budget and when aborted, returning a schedule that still fails', async () => {
    const faults = drawFaultSchedule({ ...options, kinds: [...options.kinds] }, 7);
    expect(faults.length).toBeGreaterThanOrEqual(4);
    let calls = 0;
    const r = await shrinkSchedule(faults, async (c) => (++calls, c.length > 0), { maxRuns: 3 });
    expect(calls).toBe(3);
    expect(r.runs).toBe(3);
    expect(r.exhausted).toBe(true);
    const aborted = await shrinkSchedule(faults, async () => true, { aborted: () => true });
    expect(aborted.runs).toBe(0);
    expect(aborted.faults).toEqual(faults);
  });
});

function faultKey(f: FaultSpec): string {
  const { at: _at, for: _for, ...action } = f;
  return JSON.stringify(action);
}
