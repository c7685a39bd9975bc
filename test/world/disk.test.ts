import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Simulator } from '../../src/engine/simulator.js';
import { SimulationError } from '../../src/engine/errors.js';
import { MAX_TIME_US } from '../../src/engine/time.js';
import {
  DEFAULT_DISK_CONFIG,
  DISK_EVENT_KINDS,
  Disk,
  type Chunk,
  type DiskCompletion,
  type DiskConfig,
  type DiskHandle,
} from '../../src/world/disk.js';

/** A completion as the test saw it: when it fired and through which handle. */
type Seen = DiskCompletion & { readonly atUs: number; readonly handle: number };

/**
 * A disk on a fresh simulator, with a handle whose completions are logged (`open` makes more).
 * Background writeback is off unless the config turns it on (`writebackExpireMs: undefined` means
 * the Linux default): most tests are about what fsync alone makes durable, and `drain` runs until
 * nothing is pending, which with writeback on would write everything back.
 */
function rig(config: Partial<DiskConfig> = {}, seed: number | string = 1) {
  const sim = new Simulator({ seed });
  const disk = new Disk(sim, sim.rng.fork('disk:d0'), 'd0', { writebackExpireMs: Infinity, ...config });
  const seen: Seen[] = [];
  let handles = 0;
  const open = (listener?: (completion: Seen) => void): DiskHandle => {
    const handle = ++handles;
    return disk.handle((c) => {
      const completion = { ...c, atUs: sim.nowUs, handle };
      seen.push(completion);
      listener?.(completion);
    });
  };
  const h = open();
  /** Runs until nothing is pending; a disk that never goes idle fails here instead of hanging. */
  const drain = (): void => {
    expect(sim.runUntil({ timeUs: MAX_TIME_US, events: 100_000 }).reason, 'the disk goes idle').toBe('idle');
  };
  return { sim, disk, h, seen, open, drain };
}

/** Payload and size only: what a chunk's identity is, for comparing with `toEqual`. */
const plain = (chunks: readonly Chunk[]) => chunks.map((c) => ({ payload: c.payload, sizeBytes: c.sizeBytes, torn: c.torn, corrupt: c.corrupt }));

function readChunks(h: DiskHandle, file: string): readonly Chunk[] {
  const result = h.read(file);
  if (!result.ok) throw new Error(`read ${file} failed: ${result.error}`);
  return result.chunks;
}

const payloads = (h: DiskHandle, file: string): unknown[] => readChunks(h, file).map((c) => c.payload);

// ---------------------------------------------------------------------------------------------
// A reference model, built only from what the disk reports (completions) and from the calls the
// test makes. The fsync rule: an fsync snapshots the page cache when it starts, that is when the
// op before it completes (or at once, when the device is idle).
// ---------------------------------------------------------------------------------------------

const FILES = ['a.log', 'b.log', 'c.index'] as const;

type Command =
  | { readonly kind: 'append'; readonly file: number; readonly sizeBytes: number }
  | { readonly kind: 'fsync'; readonly file: number }
  | { readonly kind: 'write-atomic'; readonly file: number; readonly sizeBytes: number }
  | { readonly kind: 'truncate'; readonly file: number; readonly keep: number }
  | { readonly kind: 'advance'; readonly us: number }
  | { readonly kind: 'crash' }
  | { readonly kind: 'power-loss' };

const fileArb = fc.integer({ min: 0, max: FILES.length - 1 });
const ioCommandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('append' as const), file: fileArb, sizeBytes: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('fsync' as const), file: fileArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('write-atomic' as const), file: fileArb, sizeBytes: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), file: fileArb, keep: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), us: fc.integer({ min: 0, max: 3_000 }) }) },
);
/** I/O commands with a fault now and then; shrinks towards fewer, simpler commands. */
const commandsWith = (fault: 'crash' | 'power-loss', minLength = 0, io: fc.Arbitrary<Command> = ioCommandArb) =>
  fc.array(fc.oneof({ weight: 12, arbitrary: io }, { weight: 1, arbitrary: fc.constant({ kind: fault } as Command) }), {
    minLength,
    maxLength: 60,
  });
/** For writeback: longer time advances, so data ages past the expiry between power losses. */
const writebackIoArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: ioCommandArb },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), us: fc.integer({ min: 0, max: 10_000 }) }) },
);

/** Latencies that vary, so ops overlap with commands in many ways. Total time stays far below 1 s. */
const variedConfig = (tornWrites: boolean): Partial<DiskConfig> => ({
  writeLatency: { distribution: 'uniform', minMs: 0.005, maxMs: 0.4 },
  fsyncLatency: { distribution: 'uniform', minMs: 0.1, maxMs: 3 },
  writeBytesPerSec: 50_000_000,
  tornWrites,
});

/** Writeback in the reference model: expiry and tick period, in µs; ticks at k × interval (the disk is built at 0). */
interface ModelWriteback {
  readonly expireUs: number;
  readonly intervalUs: number;
}

interface ModelOp {
  readonly opId: number;
  readonly kind: 'append' | 'fsync' | 'write-atomic';
  readonly file: string;
  readonly chunk?: Chunk;
  started: boolean;
  snapshot?: Chunk[];
}

class ModelDriver {
  readonly r;
  h: DiskHandle;
  private handleNo = 0;
  /** The page cache and durable content as the model predicts them. */
  readonly cache = new Map<string, Chunk[]>();
  readonly durable = new Map<string, Chunk[]>();
  private pending: ModelOp[] = [];
  private nextPayload = 0;
  /** Completions that arrived through a handle after it went inert (must stay 0). */
  lateCompletions = 0;
  /** Torn chunks seen after power losses. */
  tornSeen = 0;
  /** Writeback: when each appended chunk landed, when each file was last truncated. */
  private readonly landedAt = new WeakMap<Chunk, number>();
  private readonly truncatedAt = new Map<string, number>();
  /** The last tick the model applied (ticks at multiples of the interval). */
  private lastTickUs = 0;
  /** Ticks the disk fired, and model ticks that changed some durable content. */
  ticksSeen = 0;
  writebacks = 0;

  constructor(
    private readonly tornWrites: boolean,
    seed: number,
    private readonly wb?: ModelWriteback,
  ) {
    const writeback: Partial<DiskConfig> =
      wb === undefined ? {} : { writebackExpireMs: wb.expireUs / 1_000, writebackIntervalMs: wb.intervalUs / 1_000 };
    this.r = rig({ ...variedConfig(tornWrites), ...writeback }, seed);
    this.h = this.openHandle();
    // The disk reports no writeback to anyone; the trace shows where its ticks fall among events.
    if (wb !== undefined) {
      this.r.sim.setTraceSink({
        onEvent: (timeUs, targetId, kind) => {
          if (targetId === this.r.disk.traceId && kind === DISK_EVENT_KINDS.writeback) this.onDiskTick(timeUs);
        },
      });
    }
  }

  /**
   * Called just before the disk handles its tick. The model applies every tick, on the fixed
   * phase, whether or not the disk fired it (one it did not fire must change nothing): ticks
   * before an event or a command are applied when the model first sees that event or command.
   */
  private onDiskTick(timeUs: number): void {
    const wb = this.wb as ModelWriteback;
    expect(timeUs % wb.intervalUs, 'writeback ticks fall on the fixed phase').toBe(0);
    this.catchUpTicks(timeUs - 1);
    expect(timeUs, 'one tick per interval').toBe(this.lastTickUs + wb.intervalUs);
    this.lastTickUs = timeUs;
    this.applyTick(timeUs);
    this.ticksSeen++;
  }

  /** Applies the model's ticks up to `uptoUs` that it has not applied yet. */
  private catchUpTicks(uptoUs: number): void {
    if (this.wb === undefined) return;
    while (this.lastTickUs + this.wb.intervalUs <= uptoUs) {
      this.lastTickUs += this.wb.intervalUs;
      this.applyTick(this.lastTickUs);
    }
  }

  /**
   * The writeback rule: per file (skipped while its fsync holds the device), from the clean prefix
   * on, the chunks that landed at or before now - expire, in order; a pending truncate (the durable
   * content goes past the clean prefix, or the file is empty and not durable) is written with them
   * once the last truncate is that old, and holds everything back until then.
   */
  private applyTick(nowUs: number): void {
    const cutoffUs = nowUs - (this.wb as ModelWriteback).expireUs;
    const head = this.pending[0];
    for (const [file, cache] of this.cache) {
      if (head?.started === true && head.kind === 'fsync' && head.file === file && head.snapshot !== undefined) continue;
      const durable = this.durable.get(file);
      let clean = 0;
      while (durable !== undefined && clean < cache.length && clean < durable.length && cache[clean] === durable[clean]) clean++;
      const truncatePending = durable === undefined ? cache.length === 0 : durable.length > clean;
      if (truncatePending && (this.truncatedAt.get(file) ?? -Infinity) > cutoffUs) continue;
      let end = clean;
      while (end < cache.length && (this.landedAt.get(cache[end]) as number) <= cutoffUs) end++;
      if (end === clean && !truncatePending) continue;
      this.durable.set(file, cache.slice(0, end));
      this.writebacks++;
    }
  }

  private openHandle(): DiskHandle {
    const mine = ++this.handleNo;
    return this.r.open((c) => {
      if (mine === this.handleNo) this.onComplete(c);
      else this.lateCompletions++;
    });
  }

  private onComplete(c: Seen): void {
    this.catchUpTicks(c.atUs - 1);
    const op = this.pending.shift();
    if (op === undefined) throw new Error(`completion ${c.opId} with nothing pending`);
    expect(c.opId, 'completions come in issue order').toBe(op.opId);
    expect(c.ok).toBe(true);
    if (op.kind === 'append') {
      const chunks = this.cache.get(op.file) ?? [];
      chunks.push(op.chunk as Chunk);
      this.cache.set(op.file, chunks);
      this.landedAt.set(op.chunk as Chunk, c.atUs);
    } else if (op.kind === 'write-atomic') {
      this.cache.set(op.file, [op.chunk as Chunk]);
      this.durable.set(op.file, [op.chunk as Chunk]);
    } else if (op.snapshot !== undefined) {
      this.durable.set(op.file, op.snapshot);
    }
    this.startHead();
  }

  private startHead(): void {
    const head = this.pending[0];
    if (head === undefined || head.started) return;
    head.started = true;
    if (head.kind === 'fsync') head.snapshot = this.cache.get(head.file)?.slice();
  }

  run(command: Command): void {
    this.catchUpTicks(this.r.sim.nowUs);
    switch (command.kind) {
      case 'append':
      case 'write-atomic': {
        const file = FILES[command.file];
        const chunk: Chunk = { payload: `p${this.nextPayload++}`, sizeBytes: command.sizeBytes };
        const opId =
          command.kind === 'append'
            ? this.h.append(file, chunk.payload, chunk.sizeBytes)
            : this.h.writeAtomic(file, chunk.payload, chunk.sizeBytes);
        this.issue({ opId, kind: command.kind, file, chunk, started: false });
        break;
      }
      case 'fsync': {
        const file = FILES[command.file];
        this.issue({ opId: this.h.fsync(file), kind: 'fsync', file, started: false });
        break;
      }
      case 'truncate': {
        const file = FILES[command.file];
        const chunks = this.cache.get(file);
        if (chunks === undefined) break;
        const keep = Math.min(command.keep, chunks.length);
        this.h.truncate(file, keep);
        if (keep < chunks.length) this.truncatedAt.set(file, this.r.sim.nowUs);
        chunks.length = keep;
        break;
      }
      case 'advance':
        this.r.sim.runUntil(this.r.sim.nowUs + command.us);
        this.catchUpTicks(this.r.sim.nowUs);
        break;
      case 'crash':
        this.r.disk.processCrashed();
        this.reopen();
        break;
      case 'power-loss':
        this.powerLoss();
        break;
    }
    this.checkCacheView();
    this.checkDurable();
  }

  /** Lets every op land and writeback catch up: the disk must end clean and idle. */
  settle(): void {
    this.r.drain();
    this.catchUpTicks(this.r.sim.nowUs);
    expect(this.r.sim.pendingEvents, 'a clean disk schedules nothing').toBe(0);
    for (const [file, cache] of this.cache) expect(plain(this.durable.get(file) ?? []), file).toEqual(plain(cache));
    expect(this.r.disk.dirtyBytes()).toBe(0);
    this.checkCacheView();
    this.checkDurable();
  }

  private issue(op: ModelOp): void {
    expect(op.opId).toBeGreaterThan(0);
    this.pending.push(op);
    if (this.pending.length === 1) this.startHead();
  }

  private reopen(): void {
    this.pending = [];
    const old = this.h;
    this.h = this.openHandle();
    expect(old.append(FILES[0], 'zombie', 1), 'an old handle is inert').toBe(-1);
  }

  /**
   * Without torn writes, the survivors are exactly the durable content. With them, each file may
   * also keep one torn chunk right after it: a prefix of the first append past the durable
   * content, which then is on disk.
   */
  private powerLoss(): void {
    const cacheBefore = new Map([...this.cache].map(([f, chunks]) => [f, chunks.slice()]));
    this.r.disk.powerLoss();
    this.reopen();
    this.cache.clear();
    for (const [file, durable] of this.durable) {
      const survivors = durable.slice();
      const actual = this.h.read(file);
      if (this.tornWrites && actual.ok && actual.chunks.length === durable.length + 1) {
        const torn = actual.chunks[durable.length];
        const cached = cacheBefore.get(file) ?? [];
        const source = cached[durable.length];
        expect(source, 'a torn chunk comes from an append in the page cache').toBeDefined();
        expect(cached.slice(0, durable.length), 'the page cache extended the durable content').toEqual(durable);
        expect(torn.torn).toBe(true);
        expect(torn.payload).toBe(source.payload);
        expect(torn.sizeBytes).toBeGreaterThanOrEqual(1);
        expect(torn.sizeBytes).toBeLessThanOrEqual(source.sizeBytes - 1);
        survivors.push(torn);
        this.tornSeen++;
      }
      this.cache.set(file, survivors);
      this.durable.set(file, survivors.slice());
    }
    for (const file of this.truncatedAt.keys()) if (!this.durable.has(file)) this.truncatedAt.delete(file);
    for (const file of FILES) expect(plain(this.r.disk.durableChunks(file))).toEqual(plain(this.durable.get(file) ?? []));
  }

  /** The durable content (what a power loss now would keep, before any torn chunk) equals the model's. */
  checkDurable(): void {
    for (const file of FILES) expect(plain(this.r.disk.durableChunks(file)), file).toEqual(plain(this.durable.get(file) ?? []));
  }

  /** The page cache the disk shows equals the model's, file by file, and so does used space. */
  checkCacheView(): void {
    const names = [...this.cache.keys()].sort();
    expect(this.h.list()).toEqual(names);
    let used = 0;
    for (const file of FILES) {
      const expected = this.cache.get(file);
      if (expected === undefined) {
        expect(this.h.read(file)).toEqual({ ok: false, error: 'ENOENT' });
        continue;
      }
      expect(plain(readChunks(this.h, file))).toEqual(plain(expected));
      used += expected.reduce((sum, c) => sum + c.sizeBytes, 0);
    }
    expect(this.r.disk.usedBytes()).toBe(used);
  }
}

describe('process crash (kill -9) keeps the page cache', () => {
  it('property: what landed is readable unchanged after the crash; ops in flight never land', () => {
    fc.assert(
      fc.property(commandsWith('crash'), fc.integer({ min: 1, max: 1_000_000 }), (commands, seed) => {
        const m = new ModelDriver(false, seed);
        for (const command of [...commands, { kind: 'crash' } as const]) {
          const durableBefore = FILES.map((f) => plain(m.r.disk.durableChunks(f)));
          m.run(command);
          if (command.kind === 'crash') {
            // The durable content is untouched too, and nothing issued before the crash lands later.
            expect(FILES.map((f) => plain(m.r.disk.durableChunks(f)))).toEqual(durableBefore);
            m.r.drain();
            expect(m.lateCompletions).toBe(0);
            m.checkCacheView();
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('discards queued ops without completing them, and makes the old handle inert', () => {
    const { disk, h, seen, drain, open } = rig({ writeLatency: { distribution: 'constant', ms: 1 } });
    h.append('f', 'landed', 10);
    drain();
    h.append('f', 'in-flight', 10);
    h.append('f', 'queued', 10);
    disk.processCrashed();
    drain();
    expect(seen.map((c) => c.opId)).toEqual([1]);
    const h2 = open();
    expect(payloads(h2, 'f')).toEqual(['landed']);
    expect(h.append('f', 'zombie', 1)).toBe(-1);
    expect(h.fsync('f')).toBe(-1);
    expect(h.writeAtomic('f', 'zombie', 1)).toBe(-1);
    expect(h.read('f')).toEqual({ ok: false, error: 'EIO' });
    expect(h.exists('f')).toBe(false);
    expect(h.list()).toEqual([]);
    expect(h.sizeBytes('f')).toBe(0);
    h.truncate('f', 0);
    h.delete('f');
    drain();
    expect(payloads(h2, 'f')).toEqual(['landed']);
  });
});

describe('power loss keeps only fsync\'d data', () => {
  it('property (tornWrites off): exactly the snapshot of the last completed fsync of each file survives', () => {
    fc.assert(
      fc.property(commandsWith('power-loss'), fc.integer({ min: 1, max: 1_000_000 }), (commands, seed) => {
        const m = new ModelDriver(false, seed);
        for (const command of [...commands, { kind: 'power-loss' } as const]) {
          m.run(command); // after a power loss: the page cache is the model's durable content, checked
          if (command.kind === 'power-loss') {
            m.r.drain();
            expect(m.lateCompletions, 'ops in flight at the power loss never complete').toBe(0);
            m.checkCacheView();
          }
        }
        expect(m.tornSeen).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('property (tornWrites on): survivors are the fsync\'d prefix plus at most one torn chunk of the next append', () => {
    let tornSeen = 0;
    fc.assert(
      fc.property(commandsWith('power-loss', 20), fc.integer({ min: 1, max: 1_000_000 }), (commands, seed) => {
        const m = new ModelDriver(true, seed);
        for (const command of [...commands, { kind: 'power-loss' } as const]) m.run(command);
        tornSeen += m.tornSeen;
      }),
      { numRuns: 200 },
    );
    // The property must have met torn chunks, or it could pass vacuously.
    expect(tornSeen).toBeGreaterThan(10);
  });

  it('loses the page cache: unsynced appends vanish and files never fsync\'d disappear', () => {
    const { disk, h, drain, open } = rig();
    h.append('synced.log', 'a', 10);
    h.fsync('synced.log');
    h.append('synced.log', 'b', 10);
    h.append('never-synced.log', 'x', 10);
    drain();
    expect(payloads(h, 'synced.log')).toEqual(['a', 'b']);
    expect(disk.dirtyBytes()).toBe(20);
    disk.powerLoss();
    const h2 = open();
    expect(payloads(h2, 'synced.log')).toEqual(['a']);
    expect(h2.exists('never-synced.log')).toBe(false);
    expect(h2.list()).toEqual(['synced.log']);
    expect(disk.dirtyBytes()).toBe(0);
    expect(disk.usedBytes()).toBe(10);
  });

  it('fsync snapshots the page cache when it starts, not when it is issued or completes', () => {
    const { disk, h, drain, open, sim } = rig({ writeLatency: { distribution: 'constant', ms: 1 } });
    h.append('f', 'a', 10); // lands at 1 ms; the fsync starts then, and snapshots [a]
    h.fsync('f');
    h.append('f', 'b', 10); // lands after the fsync completes
    sim.runUntil(500);
    h.append('f', 'c', 10); // issued before the fsync starts, but queued behind it
    drain();
    expect(payloads(h, 'f')).toEqual(['a', 'b', 'c']);
    expect(disk.durableChunks('f').map((c) => c.payload)).toEqual(['a']);
    disk.powerLoss();
    expect(payloads(open(), 'f')).toEqual(['a']);
  });

  it('torn writes: a chunk of 1 byte cannot tear; a torn chunk, once survived, is on disk', () => {
    let torn: Chunk | undefined;
    for (let seed = 1; seed <= 40 && torn === undefined; seed++) {
      const { disk, h, drain, open } = rig({ tornWrites: true }, seed);
      h.append('one.log', 'head', 10);
      h.fsync('one.log');
      h.append('one.log', 'tiny', 1);
      h.append('f', 'a', 100);
      h.fsync('f');
      h.append('f', 'b', 100);
      h.append('f', 'c', 100);
      drain();
      disk.powerLoss();
      const h2 = open();
      expect(payloads(h2, 'one.log')).toEqual(['head']);
      const chunks = readChunks(h2, 'f');
      expect(chunks[0]).toEqual({ payload: 'a', sizeBytes: 100 });
      if (chunks.length === 2) {
        torn = chunks[1];
        disk.powerLoss();
        expect(readChunks(open(), 'f')).toEqual(chunks);
      }
    }
    expect(torn).toBeDefined();
    expect(torn!.payload).toBe('b');
    expect(torn!.torn).toBe(true);
    expect(torn!.sizeBytes).toBeGreaterThanOrEqual(1);
    expect(torn!.sizeBytes).toBeLessThanOrEqual(99);
  });
  it('torn writes: no torn chunk after an unsynced truncate (the next append would not follow the durable content)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { disk, h, drain, open } = rig({ tornWrites: true }, seed);
      for (const p of ['a', 'b', 'c']) h.append('f', p, 100);
      h.fsync('f');
      drain();
      h.truncate('f', 1);
      for (const p of ['d', 'e', 'g']) h.append('f', p, 100);
      drain();
      disk.powerLoss();
      expect(plain(readChunks(open(), 'f'))).toEqual(plain(disk.durableChunks('f')));
      expect(payloads(open(), 'f')).toEqual(['a', 'b', 'c']);
    }
  });
});

describe('truncate: immediate in the page cache, durable only at the next fsync', () => {
  it('a power loss before the next fsync brings truncated chunks back', () => {
    const { disk, h, drain, open } = rig();
    for (const p of ['a', 'b', 'c']) h.append('f', p, 10);
    h.fsync('f');
    drain();
    h.truncate('f', 1);
    expect(payloads(h, 'f')).toEqual(['a']);
    expect(h.sizeBytes('f')).toBe(10);
    expect(disk.durableChunks('f').map((c) => c.payload)).toEqual(['a', 'b', 'c']);
    disk.powerLoss();
    expect(payloads(open(), 'f')).toEqual(['a', 'b', 'c']);
  });

  it('after the next fsync, the truncation is durable (and appends after it too)', () => {
    const { disk, h, drain, open } = rig();
    for (const p of ['a', 'b', 'c']) h.append('f', p, 10);
    h.fsync('f');
    drain();
    h.truncate('f', 1);
    h.append('f', 'd', 10);
    h.fsync('f');
    drain();
    disk.powerLoss();
    expect(payloads(open(), 'f')).toEqual(['a', 'd']);
  });

  it('a truncate while an fsync runs does not shrink what that fsync makes durable', () => {
    const { disk, h, drain, sim, open } = rig();
    h.append('f', 'a', 10);
    h.append('f', 'b', 10);
    drain();
    h.fsync('f'); // the device is idle: it starts now and snapshots [a, b]
    h.truncate('f', 1);
    drain();
    expect(sim.nowUs).toBe(2_040);
    expect(disk.durableChunks('f').map((c) => c.payload)).toEqual(['a', 'b']);
    expect(disk.dirtyBytes()).toBe(0);
    disk.powerLoss();
    const h2 = open();
    expect(payloads(h2, 'f')).toEqual(['a', 'b']);
  });
});

describe('background writeback (vm.dirty_expire_centisecs, vm.dirty_writeback_centisecs)', () => {
  const S = 1_000_000;
  const ZERO = { distribution: 'constant', ms: 0 } as const;
  /** Linux defaults (30 s expiry, 5 s ticks from construction at 0) and instant writes, so times are exact. */
  const linux = (config: Partial<DiskConfig> = {}) =>
    rig({ writeLatency: ZERO, writebackExpireMs: undefined, writebackIntervalMs: undefined, ...config });
  const durable = (disk: Disk, file: string): unknown[] => disk.durableChunks(file).map((c) => c.payload);

  it('defaults to the Linux values: 30 s expiry, a tick every 5 s', () => {
    expect(DEFAULT_DISK_CONFIG.writebackExpireMs).toBe(30_000);
    expect(DEFAULT_DISK_CONFIG.writebackIntervalMs).toBe(5_000);
  });

  it('data that landed more than 30 s before a power loss survives it without any fsync; younger data does not', () => {
    const { sim, disk, h, open } = linux();
    sim.runUntil(1 * S);
    h.append('f', 'old', 10);
    sim.runUntil(40 * S);
    h.append('f', 'young', 10);
    sim.runUntil(42 * S);
    expect(payloads(h, 'f')).toEqual(['old', 'young']);
    disk.powerLoss();
    expect(payloads(open(), 'f')).toEqual(['old']);
  });

  it('tick phase: ticks at k × 5 s from construction; a chunk landing at L is durable from the first tick at or after L + 30 s', () => {
    const { sim, disk, h, seen } = linux();
    sim.runUntil(S / 2);
    h.append('a', 'at 0.5 s', 10); // eligible from 30.5 s: durable at the 35 s tick
    sim.runUntil(5 * S);
    h.append('b', 'at 5 s', 10); // eligible at exactly 35 s (the age bound is inclusive)
    sim.runUntil(5 * S + 1);
    h.append('c', 'at 5 s + 1 us', 10); // eligible just after 35 s: the 40 s tick
    sim.runUntil(35 * S - 1);
    expect([durable(disk, 'a'), durable(disk, 'b'), durable(disk, 'c')]).toEqual([[], [], []]);
    sim.runUntil(35 * S);
    expect([durable(disk, 'a'), durable(disk, 'b'), durable(disk, 'c')]).toEqual([['at 0.5 s'], ['at 5 s'], []]);
    sim.runUntil(40 * S - 1);
    expect(durable(disk, 'c')).toEqual([]);
    sim.runUntil(40 * S);
    expect(durable(disk, 'c')).toEqual(['at 5 s + 1 us']);
    // Writeback fires no completion and counts what it wrote.
    expect(seen.map((c) => c.kind)).toEqual(['append', 'append', 'append']);
    expect(disk.stats().writebackBytes).toBe(30);
    expect(disk.dirtyBytes()).toBe(0);
  });

  it('the phase is fixed at the disk\'s construction, not at the write', () => {
    const sim = new Simulator({ seed: 1 });
    sim.runUntil(2 * S);
    const disk = new Disk(sim, sim.rng.fork('d'), 'd', { writeLatency: ZERO }); // ticks at 7 s, 12 s, ...
    const h = disk.handle(() => {});
    sim.runUntil(2.5 * S);
    h.append('f', 'x', 1); // eligible from 32.5 s
    sim.runUntil(37 * S - 1);
    expect(durable(disk, 'f')).toEqual([]);
    sim.runUntil(37 * S);
    expect(durable(disk, 'f')).toEqual(['x']);
  });

  it('writes back only the chunks old enough; an fsync makes the rest durable at once', () => {
    const { sim, disk, h } = linux({ writebackIntervalMs: 1_000 });
    h.append('f', 'a', 1);
    sim.runUntil(10 * S);
    h.append('f', 'b', 1);
    sim.runUntil(31 * S);
    expect(durable(disk, 'f')).toEqual(['a']);
    h.fsync('f');
    sim.runUntil(32 * S);
    expect(durable(disk, 'f')).toEqual(['a', 'b']);
  });

  it('an unsynced truncate is written back once it is 30 s old, before the chunks after it', () => {
    const { sim, disk, h, drain } = linux();
    for (const p of ['a', 'b', 'c']) h.append('f', p, 10);
    h.fsync('f');
    drain(); // clean at the 5 s tick: nothing pending
    sim.runUntil(10 * S);
    h.truncate('f', 1); // makes the disk dirty again: it re-arms the tick
    expect(sim.pendingEvents).toBe(1);
    sim.runUntil(12 * S);
    h.append('f', 'd', 10);
    sim.runUntil(40 * S - 1);
    expect(durable(disk, 'f')).toEqual(['a', 'b', 'c']);
    sim.runUntil(40 * S);
    expect(durable(disk, 'f')).toEqual(['a']);
    sim.runUntil(45 * S - 1);
    expect(durable(disk, 'f')).toEqual(['a']);
    sim.runUntil(45 * S);
    expect(durable(disk, 'f')).toEqual(['a', 'd']);
  });

  it('a truncate not yet 30 s old holds back chunks that landed before it', () => {
    const { sim, disk, h, open } = linux();
    for (const p of ['a', 'b', 'c']) h.append('f', p, 10);
    h.fsync('f');
    sim.runUntil(1);
    h.truncate('f', 1); // at 1 us
    sim.runUntil(1 * S);
    h.append('f', 'd', 10); // lands at 1 s, eligible from 31 s
    sim.runUntil(2 * S);
    h.append('f', 'e', 10);
    sim.runUntil(20 * S);
    h.truncate('f', 2); // cuts e at 20 s: nothing of f is written back before 50 s
    expect(payloads(h, 'f')).toEqual(['a', 'd']);
    sim.runUntil(50 * S - 1);
    expect(durable(disk, 'f')).toEqual(['a', 'b', 'c']);
    sim.runUntil(50 * S);
    expect(durable(disk, 'f')).toEqual(['a', 'd']);
    disk.powerLoss();
    expect(payloads(open(), 'f')).toEqual(['a', 'd']);
  });

  it('a file created and truncated to nothing before it was durable becomes durable, empty', () => {
    const { sim, disk, h, open, drain } = linux();
    h.append('f', 'x', 10);
    sim.runUntil(1 * S);
    h.truncate('f', 0);
    sim.runUntil(31 * S); // the chunk went before it was old enough: nothing to write but the file
    disk.powerLoss();
    expect(open().exists('f')).toBe(false);

    const h2 = open();
    h2.append('f', 'y', 10);
    sim.runUntil(32 * S);
    h2.truncate('f', 0);
    sim.runUntil(65 * S - 1);
    expect(sim.pendingEvents, 'the empty, never-durable file is dirty').toBe(1);
    drain(); // the truncate (at 32 s) is 30 s old at the 65 s tick, which leaves the disk clean
    expect(sim.nowUs).toBe(65 * S);
    expect(sim.pendingEvents).toBe(0);
    disk.powerLoss();
    const h3 = open();
    expect(h3.exists('f')).toBe(true);
    expect(payloads(h3, 'f')).toEqual([]);
  });

  it('skips a file while its fsync holds the device (a truncate during the fsync is written back after it)', () => {
    const { sim, disk, h } = linux({
      writebackExpireMs: 1_000,
      writebackIntervalMs: 1_000,
      fsyncLatency: { distribution: 'constant', ms: 5_000 },
    });
    h.append('f', 'a', 1);
    h.append('f', 'b', 1);
    sim.runUntil(1 * S);
    expect(durable(disk, 'f')).toEqual(['a', 'b']); // written back at the 1 s tick
    sim.runUntil(1.5 * S);
    h.append('f', 'c', 1);
    sim.runUntil(1.5 * S);
    h.fsync('f'); // starts at 1.5 s with [a, b, c], completes at 6.5 s
    sim.runUntil(1.6 * S);
    h.truncate('f', 1); // old enough from 2.6 s, but f's fsync holds the device until 6.5 s
    sim.runUntil(6.5 * S - 1);
    expect(durable(disk, 'f')).toEqual(['a', 'b']);
    sim.runUntil(6.5 * S);
    expect(durable(disk, 'f')).toEqual(['a', 'b', 'c']);
    sim.runUntil(7 * S);
    expect(durable(disk, 'f')).toEqual(['a']);
    expect(disk.dirtyBytes()).toBe(0);
  });

  it('takes no device time: an op issued at a tick that writes back completes after its own latency', () => {
    const { sim, disk, h, seen } = linux({ writeLatency: { distribution: 'constant', ms: 1 }, writeBytesPerSec: 1_000 });
    h.append('f', 'big', 1_000); // 1 ms + 1 s: lands at 1.001 s, written back at the 35 s tick
    sim.runUntil(35 * S);
    expect(durable(disk, 'f')).toEqual(['big']);
    h.append('f', 'small', 1);
    sim.runUntil(36 * S);
    expect(seen.at(-1)?.atUs).toBe(35 * S + 1_000 + 1_000);
  });

  it('an idle disk schedules nothing: the tick runs only while something is dirty', () => {
    const { sim, disk, h, drain } = linux();
    expect(sim.pendingEvents).toBe(0);
    h.append('f', 'a', 10);
    h.fsync('f');
    drain();
    expect(sim.nowUs).toBe(5 * S); // the append armed the 5 s tick; clean by then, it stops
    expect(sim.pendingEvents).toBe(0);

    h.append('f', 'b', 10);
    h.append('g', 'c', 10);
    sim.runUntil(6 * S);
    expect(sim.pendingEvents).toBe(1); // one tick for the whole disk, not one per chunk or file
    drain(); // fails unless the simulator goes idle
    expect(sim.nowUs).toBe(35 * S); // landed at 5 s (after that tick): written back at 35 s, the last tick
    expect(sim.pendingEvents).toBe(0);
    expect(disk.dirtyBytes()).toBe(0);
    expect(durable(disk, 'g')).toEqual(['c']);
  });

  it('writebackExpireMs: Infinity restores fsync-only durability (and schedules no tick)', () => {
    const run = (writebackExpireMs: number | undefined) => {
      const { sim, disk, h, open } = linux({ writebackExpireMs });
      h.append('f', 'a', 10);
      sim.runUntil(1 * S);
      const pending = sim.pendingEvents;
      sim.runUntil(3_600 * S);
      disk.powerLoss();
      return { pending, survives: open().exists('f') };
    };
    expect(run(Infinity)).toEqual({ pending: 0, survives: false });
    expect(run(undefined)).toEqual({ pending: 1, survives: true });
  });

  it('property: survivors are exactly the prefix that was fsync\'d or written back', () => {
    let writebacks = 0;
    let ticks = 0;
    fc.assert(
      fc.property(
        commandsWith('power-loss', 10, writebackIoArb),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 50, max: 10_000 }),
        fc.integer({ min: 100, max: 4_000 }),
        fc.boolean(),
        (commands, seed, expireUs, intervalUs, tornWrites) => {
          const m = new ModelDriver(tornWrites, seed, { expireUs, intervalUs });
          for (const command of commands) m.run(command); // the durable content is checked after each
          writebacks += m.writebacks;
          m.settle();
          m.run({ kind: 'power-loss' }); // everything was written back: nothing is lost
          ticks += m.ticksSeen;
        },
      ),
      { numRuns: 200 },
    );
    // Writeback must have happened among the commands (not only when settling), or the property
    // could pass vacuously.
    expect(writebacks).toBeGreaterThan(200);
    expect(ticks).toBeGreaterThan(writebacks);
  });
});

describe('delete is immediate in both views', () => {
  it('removes the file from the page cache and the durable content', () => {
    const { disk, h, drain, open } = rig();
    h.append('f', 'a', 10);
    h.fsync('f');
    drain();
    h.delete('f');
    expect(h.exists('f')).toBe(false);
    expect(h.sizeBytes('f')).toBe(0);
    expect(disk.durableChunks('f')).toEqual([]);
    expect(disk.usedBytes()).toBe(0);
    h.delete('f'); // deleting an absent file is a no-op
    disk.powerLoss();
    expect(open().exists('f')).toBe(false);
  });
});

describe('writeAtomic replaces a file as a checkpoint write does (tmp, fsync, rename)', () => {
  const config: Partial<DiskConfig> = {
    writeLatency: { distribution: 'constant', ms: 0.5 },
    fsyncLatency: { distribution: 'constant', ms: 2 },
  };

  function withOldContent() {
    const r = rig(config);
    r.h.writeAtomic('recovery-point-offset-checkpoint', 'old', 20);
    r.drain();
    return r;
  }

  it('shows the old content until completion and the new content after, after write + fsync latency', () => {
    const { h, sim, seen, drain, disk } = withOldContent();
    const startUs = sim.nowUs;
    h.writeAtomic('recovery-point-offset-checkpoint', 'new', 30);
    sim.runUntil(startUs + 2_499);
    expect(payloads(h, 'recovery-point-offset-checkpoint')).toEqual(['old']);
    expect(disk.durableChunks('recovery-point-offset-checkpoint').map((c) => c.payload)).toEqual(['old']);
    drain();
    expect(seen.at(-1)).toMatchObject({ kind: 'write-atomic', ok: true, atUs: startUs + 2_500 });
    expect(payloads(h, 'recovery-point-offset-checkpoint')).toEqual(['new']);
    expect(disk.durableChunks('recovery-point-offset-checkpoint').map((c) => c.payload)).toEqual(['new']);
    expect(h.sizeBytes('recovery-point-offset-checkpoint')).toBe(30);
    expect(disk.usedBytes()).toBe(30);
  });

  it('the new content survives a power loss after completion', () => {
    const { h, drain, disk, open } = withOldContent();
    h.writeAtomic('recovery-point-offset-checkpoint', 'new', 30);
    drain();
    disk.powerLoss();
    expect(payloads(open(), 'recovery-point-offset-checkpoint')).toEqual(['new']);
  });

  it('the old content survives a power loss before completion', () => {
    const { h, sim, disk, open, drain, seen } = withOldContent();
    const completions = seen.length;
    h.writeAtomic('recovery-point-offset-checkpoint', 'new', 30);
    sim.runUntil(sim.nowUs + 2_000);
    disk.powerLoss();
    drain();
    expect(seen.length).toBe(completions);
    expect(payloads(open(), 'recovery-point-offset-checkpoint')).toEqual(['old']);
  });
});

describe('ENOSPC', () => {
  it('an append past the capacity fails, writes nothing, and is decided when it executes', () => {
    const { disk, h, seen, drain } = rig({ capacityBytes: 100 });
    h.append('f', 'a', 60);
    h.append('f', 'b', 50); // executes after `a` landed: 110 > 100
    drain();
    expect(seen.map((c) => [c.ok, c.error])).toEqual([
      [true, undefined],
      [false, 'ENOSPC'],
    ]);
    expect(payloads(h, 'f')).toEqual(['a']);
    expect(disk.usedBytes()).toBe(60);
    expect(disk.stats()).toEqual({ appends: 1, fsyncs: 0, bytesWritten: 60, failedOps: 1, writebackBytes: 0 });

    h.append('f', 'c', 50); // the device is idle: `c` starts now, and fails
    disk.setCapacityBytes(200); // too late for `c`; `d` starts after it and fits
    h.append('f', 'd', 50);
    drain();
    expect(seen.slice(2).map((c) => c.ok)).toEqual([false, true]);
    expect(payloads(h, 'f')).toEqual(['a', 'd']);
  });

  it('a capacity raised while an append waits in the queue lets it succeed', () => {
    const { disk, h, seen, drain } = rig({ capacityBytes: 100 });
    h.append('f', 'a', 60);
    h.append('f', 'b', 50); // queued behind `a`
    disk.setCapacityBytes(200);
    drain();
    expect(seen.map((c) => c.ok)).toEqual([true, true]);
  });

  it('a full disk (capacity = used bytes) fails appends and atomic writes', () => {
    const { disk, h, seen, drain } = rig();
    h.append('f', 'a', 60);
    drain();
    disk.setCapacityBytes(disk.usedBytes());
    h.append('f', 'b', 1);
    h.writeAtomic('checkpoint', 'c', 10);
    drain();
    expect(seen.slice(1).map((c) => [c.kind, c.ok, c.error])).toEqual([
      ['append', false, 'ENOSPC'],
      ['write-atomic', false, 'ENOSPC'],
    ]);
    expect(h.exists('checkpoint')).toBe(false);
    disk.setCapacityBytes(Infinity);
    h.append('f', 'e', 1);
    drain();
    expect(seen.at(-1)?.ok).toBe(true);
  });
});

describe('read errors, corruption', () => {
  it('EIO on one file or on all files; ENOENT for an absent file', () => {
    const { disk, h, drain } = rig();
    h.append('a', 'x', 1);
    h.append('b', 'y', 1);
    drain();
    disk.setReadErrors(true, 'a');
    expect(h.read('a')).toEqual({ ok: false, error: 'EIO' });
    expect(h.read('b').ok).toBe(true);
    disk.setReadErrors(false, 'a');
    expect(h.read('a').ok).toBe(true);
    disk.setReadErrors(true);
    expect(h.read('a')).toEqual({ ok: false, error: 'EIO' });
    expect(h.read('b')).toEqual({ ok: false, error: 'EIO' });
    expect(h.read('absent')).toEqual({ ok: false, error: 'ENOENT' });
    disk.processCrashed(); // a hardware fault outlives the process
    const h2 = disk.handle(() => {});
    expect(h2.read('a')).toEqual({ ok: false, error: 'EIO' });
    disk.setReadErrors(false);
    expect(h2.read('a').ok).toBe(true);
  });

  it('a corrupt chunk is visible on read, in both views, and after power loss', () => {
    const { disk, h, drain, open } = rig();
    for (const p of ['a', 'b', 'c']) h.append('f', p, 10);
    h.fsync('f');
    h.append('f', 'd', 10);
    drain();
    disk.corrupt('f', 1);
    disk.corrupt('f', 3); // not yet durable: corrupt in the page cache, and durable so at the next fsync
    const chunks = readChunks(h, 'f');
    expect(chunks.map((c) => c.corrupt === true)).toEqual([false, true, false, true]);
    expect(chunks[1]).toEqual({ payload: 'b', sizeBytes: 10, corrupt: true });
    expect(disk.durableChunks('f').map((c) => c.corrupt === true)).toEqual([false, true, false]);
    h.fsync('f');
    drain();
    expect(disk.durableChunks('f').map((c) => c.corrupt === true)).toEqual([false, true, false, true]);
    disk.powerLoss();
    expect(readChunks(open(), 'f').map((c) => c.corrupt === true)).toEqual([false, true, false, true]);
  });
});

describe('latency: FIFO device queue, slow factor, throughput', () => {
  it('one op at a time, completions in issue order even when later ops would be faster', () => {
    const { h, seen, drain } = rig({
      writeLatency: { distribution: 'exponential', meanMs: 0.5 },
      fsyncLatency: { distribution: 'exponential', meanMs: 2 },
    });
    const ids: number[] = [];
    for (let i = 0; i < 40; i++) {
      const file = `f${i % 3}`;
      ids.push(i % 5 === 4 ? h.fsync(file) : h.append(file, i, 1 + (i % 7) * 100));
    }
    drain();
    expect(seen.map((c) => c.opId)).toEqual(ids);
    for (let i = 1; i < seen.length; i++) expect(seen[i].atUs).toBeGreaterThanOrEqual(seen[i - 1].atUs);
    expect(new Set(seen.map((c) => c.atUs)).size).toBeGreaterThan(30);
  });

  it('serializes ops on the device: three 1 ms appends issued together finish at 1, 2 and 3 ms', () => {
    const { h, seen, drain } = rig({ writeLatency: { distribution: 'constant', ms: 1 } });
    h.append('a', 1, 1);
    h.append('b', 2, 1);
    h.append('a', 3, 1);
    drain();
    expect(seen.map((c) => c.atUs)).toEqual([1_000, 2_000, 3_000]);
  });

  it('a completion never fires inside the call that issued the op', () => {
    const { h, seen, drain } = rig({ writeLatency: { distribution: 'constant', ms: 0 }, fsyncLatency: { distribution: 'constant', ms: 0 } });
    h.append('a', 1, 1);
    h.fsync('a');
    expect(seen).toEqual([]);
    expect(h.exists('a')).toBe(false);
    drain();
    expect(seen.map((c) => c.atUs)).toEqual([0, 0]);
  });

  it('the slow factor multiplies latency for ops that start after it is set', () => {
    const { disk, h, seen, drain, sim } = rig({ writeLatency: { distribution: 'constant', ms: 1 } });
    h.append('f', 'a', 1);
    drain();
    disk.setSlowFactor(3);
    h.append('f', 'b', 1);
    drain();
    disk.setSlowFactor(1);
    h.append('f', 'c', 1);
    drain();
    expect(seen.map((c) => c.atUs)).toEqual([1_000, 4_000, 5_000]);
    expect(sim.nowUs).toBe(5_000);
  });

  it('throughput: an append takes latency + size / throughput; an fsync, latency + dirty bytes / throughput', () => {
    const { disk, h, seen, drain } = rig({
      writeLatency: { distribution: 'constant', ms: 0.1 },
      fsyncLatency: { distribution: 'constant', ms: 1 },
      writeBytesPerSec: 1_000_000,
    });
    h.append('f', 'a', 500);
    h.append('f', 'b', 500);
    h.append('g', 'c', 300); // another file: not part of f's fsync
    h.fsync('f');
    drain();
    expect(seen.map((c) => c.atUs)).toEqual([600, 1_200, 1_600, 1_600 + 1_000 + 1_000]);
    expect(disk.dirtyBytes()).toBe(300);
    h.fsync('f'); // nothing dirty in f any more: latency only
    drain();
    expect(seen.at(-1)?.atUs).toBe(3_600 + 1_000);
  });
});

describe('determinism', () => {
  function workload(seed: number): { completions: Seen[]; survivors: unknown[]; traceHash: string } {
    const { disk, h, seen, drain, sim, open } = rig(
      {
        writeLatency: { distribution: 'lognormal', medianMs: 0.05, sigma: 1 },
        fsyncLatency: { distribution: 'exponential', meanMs: 2 },
        writeBytesPerSec: 20_000_000,
        tornWrites: true,
      },
      seed,
    );
    for (let i = 0; i < 60; i++) {
      h.append(`p${i % 4}.log`, i, 50 + i);
      if (i % 7 === 0) h.fsync(`p${i % 4}.log`);
      if (i % 10 === 9) sim.runUntil(sim.nowUs + 300);
    }
    drain();
    h.append('p0.log', 'last', 500);
    disk.powerLoss();
    const h2 = open();
    const survivors = h2.list().map((f) => plain(readChunks(h2, f)));
    return { completions: seen, survivors, traceHash: sim.traceHash };
  }

  it('the same seed gives the same completions, times, survivors and trace hash', () => {
    expect(workload(42)).toEqual(workload(42));
  });

  it('a different seed gives different times', () => {
    expect(workload(42).completions.map((c) => c.atUs)).not.toEqual(workload(43).completions.map((c) => c.atUs));
  });
});

describe('introspection', () => {
  it('list is sorted and filtered by prefix; sizeBytes and stats add up', () => {
    const { disk, h, drain } = rig();
    h.append('orders-1/00000.log', 'a', 10);
    h.append('orders-0/00000.log', 'b', 20);
    h.append('orders-0/00000.index', 'c', 5);
    h.append('meta.properties', 'd', 1);
    h.fsync('orders-0/00000.log');
    drain();
    expect(h.list()).toEqual(['meta.properties', 'orders-0/00000.index', 'orders-0/00000.log', 'orders-1/00000.log']);
    expect(h.list('orders-0/')).toEqual(['orders-0/00000.index', 'orders-0/00000.log']);
    expect(h.sizeBytes('orders-0/00000.log')).toBe(20);
    expect(h.sizeBytes('absent')).toBe(0);
    expect(disk.usedBytes()).toBe(36);
    expect(disk.dirtyBytes()).toBe(16);
    expect(disk.stats()).toEqual({ appends: 4, fsyncs: 1, bytesWritten: 36, failedOps: 0, writebackBytes: 0 });
    expect(disk.cacheChunks('orders-1/00000.log')).toEqual([{ payload: 'a', sizeBytes: 10 }]);
    expect(disk.durableChunks('orders-1/00000.log')).toEqual([]);
    expect(disk.cacheChunks('absent')).toEqual([]);
  });

  it('a read returns a snapshot, not a live view', () => {
    const { h, drain } = rig();
    h.append('f', 'a', 1);
    drain();
    const before = readChunks(h, 'f');
    h.append('f', 'b', 1);
    drain();
    h.truncate('f', 0);
    expect(before.map((c) => c.payload)).toEqual(['a']);
  });
});

describe('bad inputs throw SimulationError at the call', () => {
  it('rejects bad sizes, file names and chunk counts', () => {
    const { h, disk, drain } = rig();
    h.append('f', 'a', 1);
    drain();
    const bad: [string, () => unknown][] = [
      ['negative size', () => h.append('f', 'x', -1)],
      ['fractional size', () => h.append('f', 'x', 1.5)],
      ['NaN size', () => h.append('f', 'x', NaN)],
      ['infinite size', () => h.append('f', 'x', Infinity)],
      ['string size', () => h.append('f', 'x', '3' as unknown as number)],
      ['atomic write NaN size', () => h.writeAtomic('f', 'x', NaN)],
      ['empty name on append', () => h.append('', 'x', 1)],
      ['empty name on fsync', () => h.fsync('')],
      ['empty name on read', () => h.read('')],
      ['non-string name', () => h.exists(7 as unknown as string)],
      ['negative chunk count', () => h.truncate('f', -1)],
      ['fractional chunk count', () => h.truncate('f', 0.5)],
      ['NaN chunk count', () => h.truncate('f', NaN)],
      ['chunk count past the end', () => h.truncate('f', 2)],
      ['truncate of an absent file', () => h.truncate('absent', 0)],
      ['zero slow factor', () => disk.setSlowFactor(0)],
      ['negative slow factor', () => disk.setSlowFactor(-2)],
      ['infinite slow factor', () => disk.setSlowFactor(Infinity)],
      ['NaN slow factor', () => disk.setSlowFactor(NaN)],
      ['negative capacity', () => disk.setCapacityBytes(-1)],
      ['NaN capacity', () => disk.setCapacityBytes(NaN)],
      ['corrupt past the end', () => disk.corrupt('f', 1)],
      ['corrupt an absent file', () => disk.corrupt('absent', 0)],
      ['handle without a callback', () => disk.handle(undefined as unknown as () => void)],
    ];
    for (const [what, call] of bad) expect(call, what).toThrow(SimulationError);
    // Nothing was queued or changed by the rejected calls.
    drain();
    expect(payloads(h, 'f')).toEqual(['a']);
  });

  it('rejects bad configs', () => {
    const sim = new Simulator({ seed: 1 });
    const make = (config: Partial<DiskConfig>) => () => new Disk(sim, sim.rng.fork('d'), 'd', config);
    expect(make({ writeBytesPerSec: 0 })).toThrow(SimulationError);
    expect(make({ writeBytesPerSec: NaN })).toThrow(SimulationError);
    expect(make({ capacityBytes: -5 })).toThrow(SimulationError);
    expect(make({ fsyncLatency: { distribution: 'constant', ms: -1 } })).toThrow(SimulationError);
    expect(make({ tornWrites: 'yes' as unknown as boolean })).toThrow(SimulationError);
    expect(make({ writeLatency: undefined })).not.toThrow();
    for (const writebackExpireMs of [0, -1, -Infinity, NaN, 0.0001, '30000' as unknown as number]) {
      expect(make({ writebackExpireMs }), `writebackExpireMs ${String(writebackExpireMs)}`).toThrow(SimulationError);
    }
    for (const writebackIntervalMs of [0, -5, Infinity, NaN, 0.0001, '5000' as unknown as number, 1e300]) {
      expect(make({ writebackIntervalMs }), `writebackIntervalMs ${String(writebackIntervalMs)}`).toThrow(SimulationError);
    }
    expect(make({ writebackExpireMs: Infinity })).not.toThrow();
    expect(make({ writebackExpireMs: 0.001, writebackIntervalMs: 0.001 })).not.toThrow();
    expect(make({ writebackExpireMs: undefined, writebackIntervalMs: undefined })).not.toThrow();
  });
});
