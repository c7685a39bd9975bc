import { SimulationError, invariant } from '../engine/errors.js';
import type { EventTarget } from '../engine/simulator.js';
import type { DurationUs, TimeUs } from '../engine/time.js';
import type { NodeId } from '../world/node.js';
import type { World } from '../world/world.js';

/** What a fault does to its targets. Timed kinds undo themselves after `forUs`. */
export type FaultKind = 'crash' | 'restart' | 'kill' | 'shutdown' | 'power-loss' | 'pause' | 'resume' | 'isolate' | 'partition' | 'heal';

/** One scripted fault, with its targets resolved to machine ids. */
export interface FaultStep {
  atUs: TimeUs;
  kind: FaultKind;
  targets: readonly NodeId[];
  /**
   * Targets that depend on the cluster's state when the fault fires (`leader(orders-0)`,
   * `controller`): resolved at that moment, and the same machines are restored afterwards.
   */
  resolveTargets?: () => readonly NodeId[];
  /** How the target was written in the scenario, for timelines. */
  label?: string;
  /** For `partition`: the groups, resolved when the fault fires. */
  resolveGroups?: () => readonly (readonly NodeId[])[];
  /** How long the fault lasts: a crash then restarts, a pause resumes, an isolation ends. */
  forUs?: DurationUs;
}

/** A span during which a node was impaired, for timelines and narratives. */
export interface FaultInterval {
  node: NodeId;
  kind: 'down' | 'powered-off' | 'paused' | 'isolated';
  fromUs: TimeUs;
  /** Undefined while the fault is still in force. */
  toUs?: TimeUs;
}

const APPLY = 1;
const UNDO = 2;

interface Scheduled {
  step: FaultStep;
  /** The machines an applied fault hit, so its undo restores exactly those. */
  targets?: readonly NodeId[];
  groups?: readonly (readonly NodeId[])[];
}

/**
 * Applies a fault schedule to a world at the scheduled times, and keeps the intervals each
 * node spent impaired. Faults act on machines and the network only, never on a node's state
 * (DESIGN.md rule 2): a crash drops the process, a power loss also drops the page cache.
 */
export class ScriptedNemesis implements EventTarget {
  readonly traceId: number;
  private readonly open = new Map<string, FaultInterval>();
  readonly intervals: FaultInterval[] = [];

  constructor(
    private readonly world: World,
    steps: readonly FaultStep[],
  ) {
    this.traceId = world.sim.allocateTraceId();
    for (const step of steps) {
      for (const id of step.targets) world.machine(id); // unknown targets fail now, not mid-run
      if (step.forUs !== undefined && !['crash', 'kill', 'shutdown', 'power-loss', 'pause', 'isolate', 'partition'].includes(step.kind)) {
        throw new SimulationError(`a ${step.kind} fault cannot have a duration (for)`);
      }
      world.sim.schedule(step.atUs, this, APPLY, { step } satisfies Scheduled);
    }
  }

  handleEvent(kind: number, payload: unknown): void {
    const { step } = payload as Scheduled;
    invariant(kind === APPLY || kind === UNDO, `nemesis: unknown event kind ${kind}`);
    if (kind === APPLY) {
      const targets = step.resolveTargets?.() ?? step.targets;
      for (const id of targets) this.apply(step.kind, id);
      const groups = step.kind === 'partition' ? (step.resolveGroups?.() ?? []) : undefined;
      if (groups !== undefined) {
        this.world.network.partition(groups.map((g) => [...g]));
        // The smallest side is drawn as cut off.
        const smallest = [...groups].sort((a, b) => a.length - b.length)[0] ?? [];
        for (const id of smallest) this.openInterval(id, 'isolated');
      }
      if (step.kind === 'heal') this.closeAll('isolated');
      // kill is a crash that always restarts (Jepsen's kill nemesis), by default at once.
      const forUs = step.kind === 'kill' ? (step.forUs ?? 0) : step.forUs;
      if (forUs !== undefined) this.world.sim.scheduleAfter(forUs, this, UNDO, { step, targets, groups } satisfies Scheduled);
    } else {
      const scheduled = payload as Scheduled;
      for (const id of scheduled.targets ?? step.targets) this.undo(step.kind, id);
      if (scheduled.groups !== undefined) {
        this.world.network.unpartition(scheduled.groups.map((g) => [...g]));
        for (const g of scheduled.groups) for (const id of g) this.closeInterval(id, 'isolated');
      }
    }
  }

  /** Closes every interval still open at the end of the run. */
  finish(): void {
    for (const interval of this.open.values()) interval.toUs = this.world.nowUs;
    this.open.clear();
  }

  private apply(kind: FaultKind, id: NodeId): void {
    const m = this.world.machine(id);
    switch (kind) {
      case 'crash':
      case 'kill':
        if (m.state !== 'stopped') this.openInterval(id, 'down');
        m.crash();
        break;
      case 'shutdown':
        // The process exits by itself once its controlled shutdown completes.
        if (m.state !== 'stopped') this.openInterval(id, 'down');
        m.terminate();
        break;
      case 'restart':
        if (m.powered) {
          m.start();
          this.closeInterval(id, 'down');
        }
        break;
      case 'power-loss':
        if (m.powered) this.openInterval(id, 'powered-off');
        this.closeInterval(id, 'down');
        m.powerOff();
        break;
      case 'pause':
        if (m.state === 'running') this.openInterval(id, 'paused');
        m.pause();
        break;
      case 'resume':
        m.resume();
        this.closeInterval(id, 'paused');
        break;
      case 'isolate':
        this.world.network.isolate(id);
        this.openInterval(id, 'isolated');
        break;
      case 'heal':
        this.world.network.heal();
        break;
    }
  }

  private undo(kind: FaultKind, id: NodeId): void {
    const m = this.world.machine(id);
    switch (kind) {
      case 'crash':
      case 'kill':
      case 'shutdown':
        // A shutdown still under way when its time is up is cut short, like a second SIGKILL.
        if (m.state !== 'stopped') m.crash();
        if (m.powered) m.start();
        this.closeInterval(id, 'down');
        break;
      case 'power-loss':
        m.powerOn();
        this.closeInterval(id, 'powered-off');
        break;
      case 'pause':
        m.resume();
        this.closeInterval(id, 'paused');
        break;
      case 'isolate':
        this.world.network.rejoin(id);
        this.closeInterval(id, 'isolated');
        break;
      default:
        break;
    }
  }

  private openInterval(node: NodeId, kind: FaultInterval['kind']): void {
    const key = `${node}/${kind}`;
    if (this.open.has(key)) return;
    const interval: FaultInterval = { node, kind, fromUs: this.world.nowUs };
    this.open.set(key, interval);
    this.intervals.push(interval);
  }

  private closeInterval(node: NodeId, kind: FaultInterval['kind']): void {
    const key = `${node}/${kind}`;
    const interval = this.open.get(key);
    if (interval === undefined) return;
    interval.toUs = this.world.nowUs;
    this.open.delete(key);
  }

  private closeAll(kind: FaultInterval['kind']): void {
    for (const interval of [...this.open.values()]) if (interval.kind === kind) this.closeInterval(interval.node, kind);
  }
}
