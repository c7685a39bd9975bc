import fc from 'fast-check';

/**
 * Random fault schedules, drawn with fast-check (DESIGN.md, `check` and the scenario's `nemesis:`
 * key). A drawn schedule is a list of scenario fault entries (`{ at, for?, crash: leader(orders-0) }`,
 * times in microseconds as the loader returns them), the same entries a scenario's `faults:` holds:
 * the scenario layer turns them into nemesis steps as it does scripted faults, and a drawn
 * schedule prints as `faults:` YAML that `kafkaesque run` replays byte for byte.
 *
 * Swarm testing (Groce et al. 2012, as TigerBeetle's VOPR does it): each draw first turns on a
 * random non-empty subset of the allowed kinds and picks its own intensity (how often faults
 * come, how long they last), then draws the faults. A run with only pauses and one with crashes
 * every 500 ms find different bugs; one fixed mix of everything finds neither as often.
 *
 * This module draws and formats only; it never touches a world, so it holds no wall clock and no
 * randomness of its own: the same options and seed give the same schedule on every machine.
 */

/** The fault kinds a nemesis may draw, with the scenario's fault-action names. */
export const NEMESIS_KINDS = ['crash', 'restart', 'kill', 'shutdown', 'power-loss', 'pause', 'isolate', 'partition'] as const;
export type NemesisKind = (typeof NEMESIS_KINDS)[number];
/** DESIGN.md: "by default crash, restart, partition and pause". */
export const DEFAULT_NEMESIS_KINDS: readonly NemesisKind[] = ['crash', 'restart', 'partition', 'pause'];
export const DEFAULT_MEAN_INTERVAL_MS = 3_000;
export const DEFAULT_MAX_FAULTS = 8;
export const DEFAULT_MAX_DURATION_MS = 10_000;
/** The shortest timed fault drawn (shorter ones hardly disturb anything). */
const MIN_DURATION_MS = 100;

/** A fault target, as a scenario writes it. */
export type FaultTarget = number | 'all-brokers' | 'controller' | `leader(${string})` | `follower(${string})`;
/** A member of a partition group, as a scenario writes it. */
export type GroupMember = FaultTarget | 'controllers' | 'producers' | 'brokers' | 'others';

/** One fault entry, as the scenario loader returns it (times in microseconds). */
export interface FaultSpec {
  at: number;
  for?: number;
  crash?: FaultTarget;
  restart?: FaultTarget;
  kill?: FaultTarget;
  shutdown?: FaultTarget;
  'power-loss'?: FaultTarget;
  pause?: FaultTarget;
  resume?: FaultTarget;
  isolate?: FaultTarget;
  partition?: GroupMember[][];
  heal?: 'all';
}

/** One fault entry as a scenario file writes it: durations as text (`3.2s`, `800ms`). */
export type ScenarioFault = Omit<FaultSpec, 'at' | 'for'> & { at: string; for?: string };

/** What a random schedule may do, and to what. */
export interface FaultScheduleOptions {
  /** Broker ids are 1..brokers. */
  brokers: number;
  /**
   * The topic-partitions (`orders-0`) of a Kafka scenario. Given, faults may target
   * `leader(orders-0)`, `follower(orders-0)`, the active `controller`, and partition groups may
   * name `producers`, `controllers` and `others`. Empty or absent: broker ids only.
   */
  partitions?: readonly string[];
  /** Whether the scenario has producers (a partition group may then hold them with a leader). */
  producers?: boolean;
  kinds?: readonly NemesisKind[];
  meanIntervalMs?: number;
  maxFaults?: number;
  maxDurationMs?: number;
  /** The fault window, in milliseconds: faults start and end inside it. */
  window: { startMs: number; stopMs: number };
}

interface RawFault {
  gap: number;
  kind: number;
  target: number;
  group: number;
  duration: number;
  untimed: boolean;
}

const SCALE = 1_000;

const rawFault: fc.Arbitrary<RawFault> = fc.record({
  // Gaps between faults are uniform on [0, 2 × mean): mean as asked, and shrinking toward 0
  // pulls faults earlier, never out of the window.
  gap: fc.integer({ min: 0, max: SCALE - 1 }),
  kind: fc.nat({ max: 1_000 }),
  target: fc.nat({ max: 1_000 }),
  group: fc.nat({ max: 1_000 }),
  duration: fc.integer({ min: 0, max: SCALE }),
  untimed: fc.boolean(),
});

/**
 * A fast-check arbitrary over fault schedules: each value is a list of fault entries in time
 * order, inside the window, every timed fault over before the window ends.
 */
export function faultScheduleArbitrary(options: FaultScheduleOptions): fc.Arbitrary<FaultSpec[]> {
  const allowed = [...new Set(options.kinds ?? DEFAULT_NEMESIS_KINDS)];
  if (allowed.length === 0) throw new RangeError('faultSchedule: kinds must name at least one fault kind');
  for (const k of allowed) if (!(NEMESIS_KINDS as readonly string[]).includes(k)) throw new RangeError(`faultSchedule: unknown kind ${JSON.stringify(k)}; expected ${NEMESIS_KINDS.join(', ')}`);
  if (!Number.isInteger(options.brokers) || options.brokers < 1) throw new RangeError('faultSchedule: brokers must be a positive integer');
  const maxFaults = options.maxFaults ?? DEFAULT_MAX_FAULTS;
  if (!Number.isInteger(maxFaults) || maxFaults < 0) throw new RangeError('faultSchedule: maxFaults must be a non-negative integer');
  const meanIntervalMs = options.meanIntervalMs ?? DEFAULT_MEAN_INTERVAL_MS;
  const maxDurationMs = options.maxDurationMs ?? DEFAULT_MAX_DURATION_MS;
  if (!(meanIntervalMs > 0) || !(maxDurationMs > 0)) throw new RangeError('faultSchedule: meanIntervalMs and maxDurationMs must be positive');
  const { startMs, stopMs } = options.window;
  if (!(stopMs > startMs) || startMs < 0) throw new RangeError('faultSchedule: the window must end after it starts');
  return fc
    .record({
      // Swarm testing: a random non-empty subset of the allowed kinds for this draw...
      kinds: fc.subarray(allowed, { minLength: 1 }),
      // ...and its own intensity.
      intervalScale: fc.constantFrom(1, 0.5, 0.25, 2),
      durationScale: fc.constantFrom(1, 0.5, 0.25),
      raw: fc.array(rawFault, { maxLength: maxFaults, size: 'max' }),
    })
    .map(({ kinds, intervalScale, durationScale, raw }) => build(options, kinds, meanIntervalMs * intervalScale, maxDurationMs * durationScale, raw));
}

/** The schedule a seed draws: the same options and seed give the same schedule everywhere. */
export function drawFaultSchedule(options: FaultScheduleOptions, seed: number): FaultSpec[] {
  return fc.sample(faultScheduleArbitrary(options), { seed: seed32(seed), numRuns: 1 })[0];
}

/** Folds a safe integer seed into fast-check's 32-bit seed, keeping the high bits' influence. */
export function seed32(seed: number): number {
  const lo = seed % 0x1_0000_0000;
  const hi = Math.floor(seed / 0x1_0000_0000);
  return (lo ^ Math.imul(hi, 0x9e3779b1)) | 0;
}

function build(o: FaultScheduleOptions, kinds: readonly NemesisKind[], meanMs: number, maxForMs: number, raw: readonly RawFault[]): FaultSpec[] {
  const partitions = o.partitions ?? [];
  const kafka = partitions.length > 0;
  const brokerIds = Array.from({ length: o.brokers }, (_, i) => i + 1);
  const pickPartition = (n: number) => partitions[n % partitions.length];
  /** Targets weighted toward the one that matters most: a partition's leader. */
  const target = (n: number, withController: boolean): FaultTarget => {
    if (!kafka) return brokerIds[n % brokerIds.length];
    const options: ((m: number) => FaultTarget)[] = [
      (m) => `leader(${pickPartition(m)})`,
      (m) => `leader(${pickPartition(m)})`,
      (m) => `follower(${pickPartition(m)})`,
      (m) => brokerIds[m % brokerIds.length],
    ];
    if (withController) options.push(() => 'controller');
    return options[n % options.length](Math.floor(n / options.length));
  };
  const groups = (n: number): GroupMember[][] => {
    const brokerSplit = (m: number): GroupMember[][] => {
      // A non-empty proper subset of the brokers, cut off from everything else.
      const size = 1 + (m % Math.max(1, brokerIds.length - 1));
      const first = Math.floor(m / brokerIds.length) % brokerIds.length;
      const side = Array.from({ length: Math.min(size, brokerIds.length) }, (_, i) => brokerIds[(first + i) % brokerIds.length]).sort((a, b) => a - b);
      const rest = brokerIds.filter((b) => !side.includes(b));
      if (kafka) return [side, ['others']];
      return rest.length > 0 ? [side, rest] : [[brokerIds[0]], brokerIds.slice(1)];
    };
    if (!kafka) return brokerSplit(n);
    const choices: ((m: number) => GroupMember[][])[] = [
      // The classic: a leader cut off from its followers and the controller, not from producers.
      (m) => (o.producers ? [[`leader(${pickPartition(m)})`, 'producers'], ['others']] : [[`leader(${pickPartition(m)})`], ['others']]),
      (m) => [[`leader(${pickPartition(m)})`], ['others']],
      // Jepsen 2013: the followers cut off from a leader that still reaches the controller, so
      // the ISR shrinks to the leader alone.
      (m) => [[`leader(${pickPartition(m)})`, 'controllers', ...(o.producers ? (['producers'] as const) : [])], ['others']],
      () => [['controllers'], ['others']],
      brokerSplit,
    ];
    return choices[n % choices.length](Math.floor(n / choices.length));
  };
  // A machine with only one broker cannot be split.
  const usable = kinds.filter((k) => k !== 'partition' || kafka || brokerIds.length > 1);
  const out: FaultSpec[] = [];
  let t = o.window.startMs;
  for (const r of raw) {
    t += Math.floor(((r.gap / SCALE) * 2 * meanMs));
    if (t >= o.window.stopMs || usable.length === 0) break;
    const kind = usable[r.kind % usable.length];
    const room = o.window.stopMs - t;
    const longest = Math.max(0, Math.min(maxForMs, room));
    const shortest = Math.min(MIN_DURATION_MS, longest);
    const forMs = Math.round(shortest + ((longest - shortest) * r.duration) / SCALE);
    const at = t * 1000;
    switch (kind) {
      case 'crash': {
        const tgt = target(r.target, true);
        // With restart on, a broker crash may stay down until a restart (or the final heal).
        if (r.untimed && kinds.includes('restart') && tgt !== 'controller') out.push({ at, crash: tgt });
        else out.push({ at, for: forMs * 1000, crash: tgt });
        break;
      }
      case 'restart':
        out.push({ at, restart: 'all-brokers' });
        break;
      case 'kill':
        // Jepsen's kill: down for a moment, then restarted.
        out.push({ at, for: Math.round(forMs / 10) * 1000, kill: target(r.target, true) });
        break;
      case 'shutdown':
        out.push({ at, for: forMs * 1000, shutdown: target(r.target, false) });
        break;
      case 'power-loss': {
        // Now and then a whole rack (here: every broker) loses power at once.
        const tgt: FaultTarget = r.group % 4 === 0 ? 'all-brokers' : target(r.target, true);
        out.push({ at, for: forMs * 1000, 'power-loss': tgt });
        break;
      }
      case 'pause':
        out.push({ at, for: forMs * 1000, pause: target(r.target, true) });
        break;
      case 'isolate':
        out.push({ at, for: forMs * 1000, isolate: target(r.target, true) });
        break;
      case 'partition':
        out.push({ at, for: forMs * 1000, partition: groups(r.group) });
        break;
    }
  }
  return out;
}

/** The fault's action (`crash`, `partition`...). */
export function faultAction(f: FaultSpec): string {
  for (const k of Object.keys(f)) if (k !== 'at' && k !== 'for') return k;
  return 'heal';
}

/** A duration in microseconds as scenario text (`3.2s`, `800ms`, `250us`); it parses back exactly. */
export function durationText(us: number): string {
  if (us % 1_000 !== 0) return `${us}us`;
  if (us >= 1_000_000) return `${us / 1_000_000}s`;
  return `${us / 1_000}ms`;
}

/** Fault entries as a scenario file writes them (durations as text), keys in the order at, action, for. */
export function toScenarioFaults(faults: readonly FaultSpec[]): ScenarioFault[] {
  return faults.map((f) => {
    const { at, for: forUs, ...action } = f;
    const out = { at: durationText(at), ...action } as ScenarioFault;
    if (forUs !== undefined) out.for = durationText(forUs);
    return out;
  });
}

/** Fault entries as YAML flow mappings, one a line: `- { at: 3.2s, crash: leader(orders-0), for: 9s }`. */
export function faultsYaml(faults: readonly FaultSpec[], indent = ''): string {
  if (faults.length === 0) return `${indent}[]`;
  const scalar = (v: unknown): string => (Array.isArray(v) ? `[${v.map(scalar).join(', ')}]` : String(v));
  return toScenarioFaults(faults)
    .map((f) => `${indent}- { ${Object.entries(f).map(([k, v]) => `${k}: ${scalar(v)}`).join(', ')} }`)
    .join('\n');
}
