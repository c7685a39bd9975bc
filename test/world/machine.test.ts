import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { World } from '../../src/world/world.js';
import type { Message, Node, NodeContext, NodeId } from '../../src/world/node.js';
import type { DiskCompletion } from '../../src/world/disk.js';
import { SimulationError } from '../../src/engine/errors.js';

interface Seq extends Message {
  readonly type: 'seq';
  readonly n: number;
}

/** Records what it receives, with the true time of receipt. */
class Recorder implements Node {
  static log: { node: NodeId; from: NodeId; n: number; atUs: number; incarnation: number }[] = [];
  constructor(private readonly ctx: NodeContext, private readonly world: () => World) {}
  start(): void {}
  onMessage(from: NodeId, message: Message): void {
    Recorder.log.push({ node: this.ctx.id, from, n: (message as Seq).n, atUs: this.world().nowUs, incarnation: this.ctx.incarnation });
  }
  onTimer(): void {}
}

/** Sends `count` numbered messages to node 2, one every `everyUs`. */
class Sender implements Node {
  private n = 0;
  constructor(private readonly ctx: NodeContext, private readonly count: number, private readonly everyUs: number) {}
  start(): void {
    this.ctx.setTimer('tick', 0);
  }
  onMessage(): void {}
  onTimer(): void {
    this.ctx.send(2, { type: 'seq', n: this.n++ } as Seq);
    if (this.n < this.count) this.ctx.setTimer('tick', this.everyUs);
  }
}

function twoNodeWorld(seed: number, count: number, everyUs: number): World {
  const world: World = new World({ seed, network: { latency: { distribution: 'exponential', meanMs: 1 } } });
  world.addMachine({ id: 1, factory: (ctx) => new Sender(ctx, count, everyUs) });
  world.addMachine({ id: 2, factory: (ctx) => new Recorder(ctx, () => world) });
  world.startAll();
  return world;
}

describe('Machine: pause and resume', () => {
  it('a paused process receives its messages late, all of them, in order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 300_000 }),
        fc.integer({ min: 1, max: 2_000_000 }),
        (seed, pauseAtUs, pauseForUs) => {
          Recorder.log = [];
          const world = twoNodeWorld(seed, 200, 2_000);
          world.runUntil(pauseAtUs);
          world.machine(2).pause();
          world.runUntil(pauseAtUs + pauseForUs);
          const duringPause = Recorder.log.length;
          world.machine(2).resume();
          const resumedAt = world.nowUs;
          world.runUntil(pauseAtUs + pauseForUs + 2_000_000);
          expect(Recorder.log.map((r) => r.n)).toEqual([...Array(200).keys()]);
          // Nothing was handed over while paused, and what queued up came at the resume instant.
          const late = Recorder.log.slice(duringPause).filter((r) => r.atUs === resumedAt);
          for (const r of Recorder.log.slice(0, duringPause)) expect(r.atUs).toBeLessThanOrEqual(pauseAtUs);
          if (late.length > 0) expect(late[0].n).toBe(duringPause);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('timers that expire during a pause fire late, in order, and a cancel during replay holds', () => {
    const fired: string[] = [];
    let ctxRef: NodeContext | undefined;
    let timerB = -1;
    const world = new World({ seed: 1 });
    world.addMachine({
      id: 1,
      factory: (ctx) => {
        ctxRef = ctx;
        return {
          start() {
            ctx.setTimer('a', 1000);
            timerB = ctx.setTimer('b', 2000);
            ctx.setTimer('c', 3000);
          },
          onMessage() {},
          onTimer(name: string) {
            fired.push(`${name}@${world.nowUs}`);
            if (name === 'a') ctx.cancelTimer(timerB);
          },
        };
      },
    });
    world.startAll();
    world.machine(1).pauseFor(10_000);
    world.runUntil(20_000);
    expect(ctxRef).toBeDefined();
    expect(fired).toEqual(['a@10000', 'c@10000']);
  });
});

describe('Machine: crashes and power loss', () => {
  /** Appends one chunk per timer tick, fsyncing every `syncEvery` appends. */
  const writer = (syncEvery: number, seen: { incarnation: number; chunks: unknown[] }[]) => (ctx: NodeContext) => {
    let n = 0;
    return {
      start() {
        const r = ctx.disk.read('log');
        seen.push({ incarnation: ctx.incarnation, chunks: r.ok ? r.chunks.map((c) => c.payload) : [] });
        ctx.setTimer('write', 100);
      },
      onMessage() {},
      onTimer() {
        ctx.disk.append('log', n++, 10);
        if (n % syncEvery === 0) ctx.disk.fsync('log');
        ctx.setTimer('write', 100);
      },
      onDiskComplete(_c: DiskCompletion) {},
    };
  };

  it('a restarted process reads back everything that reached the page cache (kill -9)', () => {
    const seen: { incarnation: number; chunks: unknown[] }[] = [];
    const world = new World({ seed: 3, disk: { fsyncLatency: { distribution: 'constant', ms: 2 } } });
    const m = world.addMachine({ id: 1, factory: writer(1000, seen) });
    world.startAll();
    world.runUntil(10_050);
    m.crash();
    expect(m.state).toBe('stopped');
    m.start();
    expect(seen[1].incarnation).toBe(2);
    expect(seen[1].chunks).toEqual([...Array(100).keys()]);
  });

  it('power loss keeps only what was fsync\'d', () => {
    const seen: { incarnation: number; chunks: unknown[] }[] = [];
    const world = new World({ seed: 3, disk: { fsyncLatency: { distribution: 'constant', ms: 0.05 } } });
    const m = world.addMachine({ id: 1, factory: writer(10, seen) });
    world.startAll();
    world.runUntil(10_090); // 100 appends at 100, 200, ... 10000µs; the fsync after the 100th is done at 10070
    m.powerCycle(1_000);
    expect(m.powered).toBe(false);
    world.runUntil(12_000);
    expect(m.powered).toBe(true);
    expect(seen[1].chunks).toEqual([...Array(100).keys()]);
    const seen2: { incarnation: number; chunks: unknown[] }[] = [];
    const w2 = new World({ seed: 3, disk: { fsyncLatency: { distribution: 'constant', ms: 0.05 } } });
    const m2 = w2.addMachine({ id: 1, factory: writer(10, seen2) });
    w2.startAll();
    w2.runUntil(10_550); // 105 appends, the last 5 never fsync'd
    m2.powerOff();
    m2.powerOn();
    expect(seen2[1].chunks).toEqual([...Array(100).keys()]);
  });

  it('a crashed process loses its timers and sends nothing more', () => {
    Recorder.log = [];
    const world = twoNodeWorld(5, 1000, 1000);
    world.runUntil(50_000);
    world.machine(1).crash();
    const sentBefore = world.network.stats().sent;
    world.runUntil(200_000);
    expect(world.network.stats().sent).toBe(sentBefore);
  });

  it('messages to a stopped process are gone, not queued', () => {
    Recorder.log = [];
    const world = twoNodeWorld(5, 100, 1000);
    world.machine(2).crash();
    world.runUntil(50_000);
    world.machine(2).start();
    world.runUntil(200_000);
    expect(Recorder.log.length).toBeGreaterThan(0);
    expect(Recorder.log[0].n).toBeGreaterThan(0);
    expect(Recorder.log.every((r) => r.incarnation === 2)).toBe(true);
  });

  it('kill restarts the process after the delay, once', () => {
    const starts: number[] = [];
    const world = new World({ seed: 1 });
    const m = world.addMachine({ id: 1, factory: () => ({ start: () => starts.push(world.nowUs), onMessage() {}, onTimer() {} }) });
    world.startAll();
    m.kill(5_000);
    m.kill(7_000);
    world.runUntil(100_000);
    expect(starts).toEqual([0, 7_000]);
    expect(m.incarnation).toBe(2);
  });
});

describe('Machine: clocks', () => {
  it('local time carries the offset and drift, and drift stretches timers', () => {
    const fired: number[] = [];
    const world = new World({ seed: 1 });
    const m = world.addMachine({
      id: 1,
      clock: { offsetUs: 5_000_000, driftPpm: 100_000 }, // 10% fast
      factory: (ctx) => ({ start: () => ctx.setTimer('t', 110_000), onMessage() {}, onTimer: () => fired.push(world.nowUs) }),
    });
    world.startAll();
    world.runUntil(1_000_000);
    expect(fired).toEqual([100_000]);
    expect(m.localNowUs()).toBe(6_100_000);
    m.setClock({ offsetUs: -1_000_000 }); // a clock jump backwards
    expect(m.localNowUs()).toBe(100_000);
  });

  it('rejects a drift that would stop or reverse the clock', () => {
    const world = new World({ seed: 1 });
    expect(() => world.addMachine({ id: 1, clock: { driftPpm: -1e6 }, factory: () => ({ start() {}, onMessage() {}, onTimer() {} }) })).toThrow(SimulationError);
  });
});

describe('World', () => {
  it('gives the same trace hash for the same seed and a different one for another seed', () => {
    const run = (seed: number) => {
      Recorder.log = [];
      const w = twoNodeWorld(seed, 300, 500);
      w.runUntil(100_000);
      w.machine(2).pauseFor(30_000);
      w.runUntil(400_000);
      return w.traceHash;
    };
    expect(run(11)).toBe(run(11));
    expect(run(11)).not.toBe(run(12));
  });

  it('rejects duplicate machine ids and unknown machines', () => {
    const world = new World({ seed: 1 });
    const f = () => ({ start() {}, onMessage() {}, onTimer() {} });
    world.addMachine({ id: 1, factory: f });
    expect(() => world.addMachine({ id: 1, factory: f })).toThrow(SimulationError);
    expect(() => world.machine(9)).toThrow(SimulationError);
  });

  it('stamps history entries with the true time and the recording node', () => {
    const world = new World({ seed: 1 });
    world.addMachine({ id: 4, factory: (ctx) => ({ start: () => ctx.setTimer('t', 42), onMessage() {}, onTimer: () => ctx.record({ type: 'hello' }) }) });
    world.startAll();
    world.runUntil(100);
    expect(world.history).toEqual([{ timeUs: 42, node: 4, entry: { type: 'hello' } }]);
  });
});
