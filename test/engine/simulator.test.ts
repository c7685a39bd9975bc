import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Simulator, type EventTarget } from '../../src/engine/simulator.js';
import { SimulationError } from '../../src/engine/errors.js';
import { MemoryTraceSink } from '../../src/engine/trace.js';

/** A toy process: each event reschedules itself after a random delay drawn from its stream. */
class Ticker implements EventTarget {
  readonly traceId: number;
  readonly seen: number[] = [];
  private readonly rng;
  constructor(private readonly sim: Simulator, name: string) {
    this.traceId = sim.allocateTraceId();
    this.rng = sim.rng.fork(name);
  }
  handleEvent(kind: number): void {
    this.seen.push(this.sim.nowUs);
    this.sim.scheduleAfter(Math.round(this.rng.exponential(1000)), this, kind + 1);
    if (this.rng.chance(0.3)) {
      const id = this.sim.scheduleAfter(500, this, 99);
      this.sim.cancel(id);
    }
  }
}

function runTickers(seed: number | string, tickers = 4, untilUs = 200_000): string {
  const sim = new Simulator({ seed });
  for (let i = 0; i < tickers; i++) sim.schedule(0, new Ticker(sim, `t${i}`), 0);
  sim.runUntil(untilUs);
  return sim.traceHash;
}

describe('Simulator determinism', () => {
  it('gives the same trace hash for the same seed, run twice', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.string()), (seed) => {
        expect(runTickers(seed)).toBe(runTickers(seed));
      }),
      { numRuns: 30 },
    );
  });

  it('gives different trace hashes for different seeds', () => {
    const hashes = new Set<string>();
    for (let seed = 0; seed < 50; seed++) hashes.add(runTickers(seed));
    expect(hashes.size).toBe(50);
  });

  it('changes the trace hash when one event moves by one microsecond', () => {
    const run = (shiftUs: number) => {
      const sim = new Simulator({ seed: 1 });
      const t = { traceId: sim.allocateTraceId(), handleEvent() {} };
      sim.schedule(10, t, 1);
      sim.schedule(20 + shiftUs, t, 1);
      sim.runUntil(1000);
      return sim.traceHash;
    };
    expect(run(0)).not.toBe(run(1));
  });

  it('a named stream does not change when another component draws more', () => {
    const a = new Simulator({ seed: 7 });
    const b = new Simulator({ seed: 7 });
    b.rng.fork('other').float();
    b.rng.fork('other').float();
    const xa = a.rng.fork('net');
    const xb = b.rng.fork('net');
    for (let i = 0; i < 10; i++) expect(xa.float()).toBe(xb.float());
  });
});

describe('Simulator runUntil', () => {
  const target = (sim: Simulator, log: number[]) => ({
    traceId: sim.allocateTraceId(),
    handleEvent(kind: number) {
      log.push(kind);
    },
  });

  it('stops at a time limit with the clock at that time and later events pending', () => {
    const sim = new Simulator({ seed: 1 });
    const log: number[] = [];
    const t = target(sim, log);
    sim.schedule(100, t, 1);
    sim.schedule(300, t, 2);
    const r = sim.runUntil(200);
    expect(r).toEqual({ reason: 'time', eventsDelivered: 1, nowUs: 200 });
    expect(sim.pendingEvents).toBe(1);
    sim.scheduleAfter(50, t, 3); // at 250, before the pending 300
    sim.runUntil(1000);
    expect(log).toEqual([1, 3, 2]);
    expect(sim.nowUs).toBe(1000);
  });

  it('stops on a predicate checked after each event, and on an event budget', () => {
    const sim = new Simulator({ seed: 1 });
    const log: number[] = [];
    const t = target(sim, log);
    for (let i = 1; i <= 10; i++) sim.schedule(i * 10, t, i);
    expect(sim.runUntil(() => log.length === 3).reason).toBe('predicate');
    expect(sim.nowUs).toBe(30);
    expect(sim.runUntil({ events: 2 })).toEqual({ reason: 'events', eventsDelivered: 2, nowUs: 50 });
    expect(sim.runUntil({ timeUs: 1000, events: 100 }).reason).toBe('idle');
    expect(log).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('delivers equal-time events first in, first out', () => {
    const sim = new Simulator({ seed: 1 });
    const log: number[] = [];
    const t = target(sim, log);
    for (let i = 0; i < 100; i++) sim.schedule(5, t, i);
    sim.runUntil(10);
    expect(log).toEqual([...Array(100).keys()]);
  });

  it('records every delivered event in the trace sink when one is attached', () => {
    const sink = new MemoryTraceSink();
    const sim = new Simulator({ seed: 1, traceSink: sink });
    const t = target(sim, []);
    sim.schedule(5, t, 7, 'x');
    const id = sim.schedule(6, t, 8);
    sim.cancel(id);
    sim.runUntil(10);
    expect(sink.events).toEqual([{ timeUs: 5, targetId: t.traceId, kind: 7, payload: 'x' }]);
  });
});

describe('Simulator misuse', () => {
  const sim = new Simulator({ seed: 1 });
  const t = { traceId: sim.allocateTraceId(), handleEvent() {} };
  sim.schedule(100, t, 0);
  sim.runUntil(100);

  it.each([
    ['in the past', () => sim.schedule(99, t, 0)],
    ['at NaN', () => sim.schedule(Number.NaN, t, 0)],
    ['at a fraction', () => sim.schedule(100.5, t, 0)],
    ['after a negative delay', () => sim.scheduleAfter(-1, t, 0)],
    ['after a NaN delay', () => sim.scheduleAfter(Number.NaN, t, 0)],
    ['after an infinite delay', () => sim.scheduleAfter(Infinity, t, 0)],
    ['running until the past', () => sim.runUntil(50)],
    ['running with a negative budget', () => sim.runUntil({ events: -1 })],
  ])('throws a SimulationError when scheduling %s', (_what, call) => {
    expect(call).toThrow(SimulationError);
  });

  it('names the offending value in the message', () => {
    expect(() => sim.schedule(99, t, 0)).toThrow(/99us.*now \(100us\)/);
  });

  it('rejects a non-finite seed', () => {
    expect(() => new Simulator({ seed: Number.NaN })).toThrow(SimulationError);
  });
});
