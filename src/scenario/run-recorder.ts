import type { Violation } from '../check/violation.js';
import type { TimeUs } from '../engine/time.js';
import type { Broker } from '../kafka/broker/broker.js';
import type { Controller } from '../kafka/controller/controller.js';
import { errorName } from '../kafka/protocol/errors.js';
import type { Message, NodeId } from '../world/node.js';
import type { RecordedEntry, World } from '../world/world.js';
import { replicaSnapshot } from './replication-view.js';

/**
 * What the HTML report draws beyond the timeline, recorded while a Kafka run goes and trimmed to
 * the partitions that matter when it ends. Recording never acts on the world and costs little on
 * the hot path: a fixed ring of recent messages, a string compare per history entry, snapshots of
 * replica logs only at leader changes, truncations and fault starts.
 */
export interface RunFigures {
  /** Replica logs of the partitions with findings, at the moments that explain them. */
  replicaLogs: ReplicaLogSnapshot[];
  /** Windows of messages between the nodes of those partitions, around the same moments. */
  sequences: MessageWindow[];
  /** Producer throughput and latency, bucketed over simulated time. */
  throughput: ThroughputSeries;
  /** The committed ISR of every partition (the controller's metadata), as changes over time. */
  isr: IsrSeries;
  /**
   * Consumer lag per group over time (Kafka's records-lag, summed over the group's partitions: the
   * leader's high watermark minus the group's committed offset), from the history. The report
   * shows a labelled placeholder until this is filled.
   */
  consumerLag?: { group: string; points: { atUs: TimeUs; lag: number }[] }[];
  /** Why a partition was chosen (`finding`), or that none had findings and it only changed leader. */
  focus: { partition: string; why: 'finding' | 'leader-change' }[];
}

export interface ReplicaLogRecord {
  offset: number;
  /** The batch's partition leader epoch. */
  epoch: number;
  value: string;
}

export interface ReplicaLogState {
  broker: NodeId;
  /** `down`: the process is not running (its log is on disk, not readable from here). */
  role: 'leader' | 'follower' | 'down' | 'no-replica';
  leaderEpoch: number;
  logStartOffset: number;
  highWatermark: number;
  logEndOffset: number;
  /** The records this replica holds inside the snapshot's `ranges`. */
  records: ReplicaLogRecord[];
}

export type MomentKind = 'before-fault' | 'election' | 'demoted' | 'truncation' | 'end';

export interface ReplicaLogSnapshot {
  partition: string;
  atUs: TimeUs;
  kind: MomentKind;
  /** What happened, in words: "broker-1 became leader in epoch 1". */
  moment: string;
  /** The broker the moment is about (the new leader, the demoted one, the one that truncated). */
  broker?: NodeId;
  /** Offset ranges shown, [from, to), sorted and disjoint: around where the logs diverge and at their ends. */
  ranges: [number, number][];
  replicas: ReplicaLogState[];
}

export interface SequenceMessage {
  sendUs: TimeUs;
  /** Undefined: never delivered (held by a partition and reset, or sent to a dead process), or delivered late. */
  deliverUs?: TimeUs;
  /** Delivered, but long after the window (held by a partition until it healed). */
  deliveredLateUs?: TimeUs;
  from: NodeId;
  to: NodeId;
  type: string;
  /** The type and the fields that matter for the partition, e.g. "Fetch @1293 e1". */
  label: string;
}

export interface MessageWindow {
  partition: string;
  atUs: TimeUs;
  moment: string;
  lanes: { id: NodeId; name: string }[];
  messages: SequenceMessage[];
  /** Protocol events on the lanes inside the window (become-leader, truncate, fenced). */
  events: { atUs: TimeUs; node: NodeId; label: string }[];
}

export interface ThroughputSeries {
  bucketUs: number;
  buckets: { startUs: TimeUs; sent: number; acked: number; failed: number; lost: number; p50Ms?: number; p99Ms?: number; maxMs?: number }[];
}

export interface IsrSeries {
  partitions: string[];
  replicationFactor: number[];
  /** A change of partition `p` (an index into `partitions`): its ISR size and leader (-1: offline). */
  changes: { atUs: TimeUs; p: number; isrSize: number; leader: number }[];
}

/** Messages kept before a trigger. */
const RING_SIZE = 256;
/** After a trigger, messages are captured for this long or this many, whichever ends first. */
const POST_WINDOW_US = 500_000;
const POST_MESSAGES = 384;
const PRE_WINDOW_US = 500_000;
const MAX_CAPTURES = 32;
/** Snapshots kept per partition: the first ones and the latest ones. */
const SNAPSHOTS_HEAD = 4;
const SNAPSHOTS_TAIL = 6;
const MAX_KEY_EVENTS = 4000;
/** Offsets shown before the divergence point, from it, and at the end of the longest log. */
const OFFSETS_BEFORE = 3;
const OFFSETS_FROM = 7;
const OFFSETS_AT_END = 3;
/** Partitions drawn in the report at most, and messages per window around the trigger. */
const MAX_FOCUS_PARTITIONS = 3;
const WINDOW_BEFORE = 8;
const WINDOW_AFTER = 16;
/** A delivery this long after a window's last send is drawn as held, not as an arrow across the gap. */
const LATE_US = 200_000;

interface MessageRecord {
  sendUs: TimeUs;
  deliverUs: TimeUs | undefined;
  from: NodeId;
  to: NodeId;
  message: Message;
}

interface Capture {
  atUs: TimeUs;
  moment: string;
  partition: string | undefined;
  records: MessageRecord[];
  /** Index in `records` of the first message sent at or after the trigger. */
  triggerIndex: number;
  remaining: number;
}

interface KeyEvent {
  atUs: TimeUs;
  node: NodeId;
  partition: string | undefined;
  label: string;
}

/**
 * Records, for the report, what a Kafka run's history alone does not keep. Wire it with
 * `onHistory`, `onSend` and `onDeliver`, call `beforeFault` just before a scripted fault fires,
 * and `finish` once the run's findings are known.
 */
export class RunRecorder {
  private readonly ring: (MessageRecord | undefined)[] = new Array(RING_SIZE);
  private ringNext = 0;
  private readonly inFlight = new Map<Message, MessageRecord>();
  private readonly captures: Capture[] = [];
  private open: Capture | undefined;
  private readonly snapshots = new Map<string, ReplicaLogSnapshot[]>();
  private readonly snapshotsSeen = new Map<string, number>();
  private readonly keyEvents: KeyEvent[] = [];
  /** The last known replica list of each partition (the controller may be down when a snapshot is taken). */
  private readonly replicasOf = new Map<string, readonly number[]>();
  /** Per partition, the brokers that were told they lead it and not yet that they follow. */
  private readonly leadersOf = new Map<string, Set<NodeId>>();
  private readonly isrIndex = new Map<string, number>();
  private readonly isr: IsrSeries = { partitions: [], replicationFactor: [], changes: [] };
  private readonly isrLast: { isrSize: number; leader: number }[] = [];

  constructor(
    private readonly world: World,
    private readonly brokerIds: readonly NodeId[],
    private readonly isController: (id: NodeId) => boolean,
    private readonly activeController: () => Controller | undefined,
  ) {}

  // ---------------------------------------------------------------- hooks (hot path)

  onSend(timeUs: TimeUs, from: NodeId, to: NodeId, message: Message): void {
    const rec: MessageRecord = { sendUs: timeUs, deliverUs: undefined, from, to, message };
    const slot = this.ringNext;
    const evicted = this.ring[slot];
    if (evicted !== undefined && this.inFlight.get(evicted.message) === evicted) this.inFlight.delete(evicted.message);
    this.ring[slot] = rec;
    this.ringNext = slot + 1 === RING_SIZE ? 0 : slot + 1;
    this.inFlight.set(message, rec);
    const open = this.open;
    if (open !== undefined) {
      if (open.remaining > 0 && timeUs <= open.atUs + POST_WINDOW_US) {
        open.records.push(rec);
        open.remaining--;
      } else this.open = undefined;
    }
  }

  onDeliver(timeUs: TimeUs, _from: NodeId, _to: NodeId, message: Message): void {
    const rec = this.inFlight.get(message);
    if (rec === undefined) return;
    rec.deliverUs = timeUs;
    this.inFlight.delete(message);
  }

  onHistory(timeUs: TimeUs, node: NodeId, entry: { readonly type: string } & Record<string, unknown>): void {
    switch (entry.type) {
      case 'become-leader':
      case 'become-follower':
      case 'truncate':
        this.onReplicaEvent(timeUs, node, entry);
        return;
      case 'broker-fenced':
        this.keyEvent(timeUs, node, undefined, `fenced broker-${String(entry.broker)}`);
        this.sampleIsr(timeUs, node);
        return;
      case 'metadata-commit':
      case 'unclean-election':
        if (entry.type === 'unclean-election') this.keyEvent(timeUs, node, String(entry.partition), `unclean election: broker-${String(entry.leader)}`);
        this.sampleIsr(timeUs, node);
        return;
      default:
    }
  }

  /** Call just before the first scripted fault fires: every partition's logs, and a message window. */
  beforeFault(timeUs: TimeUs, label: string): void {
    const moment = `just before the first fault (${label})`;
    this.trigger(timeUs, undefined, moment);
    for (const partition of this.knownPartitions()) this.snapshot(partition, timeUs, 'before-fault', moment);
  }

  // ---------------------------------------------------------------- recording

  private onReplicaEvent(timeUs: TimeUs, node: NodeId, entry: Record<string, unknown>): void {
    const partition = String(entry.partition);
    const epoch = Number(entry.leaderEpoch);
    const name = this.nameOf(node);
    let leaders = this.leadersOf.get(partition);
    if (leaders === undefined) this.leadersOf.set(partition, (leaders = new Set()));
    if (entry.type === 'become-leader') {
      leaders.add(node);
      const label = `${name} became leader in epoch ${epoch}`;
      this.keyEvent(timeUs, node, partition, `leader e${epoch}`);
      // The first election of a partition is its creation: nothing to explain yet.
      if (epoch === 0) return;
      this.trigger(timeUs, partition, label);
      this.snapshot(partition, timeUs, 'election', label, node);
    } else if (entry.type === 'become-follower') {
      // A former leader learns of the new epoch: its log still holds what it alone accepted.
      if (!leaders.delete(node)) return;
      const label = `${name}, the former leader, learned of epoch ${epoch}`;
      this.keyEvent(timeUs, node, partition, `follower e${epoch}`);
      this.trigger(timeUs, partition, label);
      this.snapshot(partition, timeUs, 'demoted', label, node);
    } else {
      const label = `${name} truncated its log to offset ${String(entry.offset)}`;
      this.keyEvent(timeUs, node, partition, `truncate to ${String(entry.offset)}`);
      this.trigger(timeUs, partition, label);
      this.snapshot(partition, timeUs, 'truncation', label, node);
    }
  }

  private keyEvent(atUs: TimeUs, node: NodeId, partition: string | undefined, label: string): void {
    if (this.keyEvents.length < MAX_KEY_EVENTS) this.keyEvents.push({ atUs, node, partition, label });
  }

  /** Opens a message capture, unless one is open already (it covers this trigger too). */
  private trigger(atUs: TimeUs, partition: string | undefined, moment: string): void {
    if (this.open !== undefined && this.open.remaining > 0 && atUs <= this.open.atUs + POST_WINDOW_US) return;
    if (this.captures.length >= MAX_CAPTURES) return;
    const pre: MessageRecord[] = [];
    for (let i = 0; i < RING_SIZE; i++) {
      const rec = this.ring[(this.ringNext + i) % RING_SIZE];
      if (rec !== undefined && rec.sendUs >= atUs - PRE_WINDOW_US) pre.push(rec);
    }
    const capture: Capture = { atUs, moment, partition, records: pre, triggerIndex: pre.length, remaining: POST_MESSAGES };
    this.captures.push(capture);
    this.open = capture;
  }

  private snapshot(partition: string, atUs: TimeUs, kind: MomentKind, moment: string, broker?: NodeId): void {
    let list = this.snapshots.get(partition);
    if (list === undefined) this.snapshots.set(partition, (list = []));
    const seen = (this.snapshotsSeen.get(partition) ?? 0) + 1;
    this.snapshotsSeen.set(partition, seen);
    // Keep the first few and the latest few; drop from the middle.
    if (list.length >= SNAPSHOTS_HEAD + SNAPSHOTS_TAIL) list.splice(SNAPSHOTS_HEAD, 1);
    list.push(this.takeSnapshot(partition, atUs, kind, moment, broker));
  }

  private takeSnapshot(partition: string, atUs: TimeUs, kind: MomentKind, moment: string, broker?: NodeId): ReplicaLogSnapshot {
    const replicaIds = this.replicasFor(partition);
    const live = replicaIds.map((id) => {
      const m = this.world.machine(id);
      const part = m.state === 'stopped' ? undefined : (m.process as Broker | undefined)?.replicaManager.partition(partition);
      return { id, running: m.state !== 'stopped', part, view: part === undefined ? undefined : replicaSnapshot(id, part) };
    });
    const views = live.flatMap((l) => (l.view === undefined ? [] : [l.view]));
    let ranges: [number, number][] = [];
    if (views.length > 0) {
      const minStart = Math.min(...views.map((v) => v.logStartOffset));
      const minLeo = Math.min(...views.map((v) => v.logEndOffset));
      const maxLeo = Math.max(...views.map((v) => v.logEndOffset));
      // The first offset where the replicas disagree (logs agree on a prefix, so binary search).
      let lo = minStart;
      let hi = minLeo;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const first = views[0].recordAt(mid);
        if (views.every((v) => v.recordAt(mid) === first)) lo = mid + 1;
        else hi = mid;
      }
      const focus = lo;
      ranges = mergeRanges(
        [
          [focus - OFFSETS_BEFORE, focus + OFFSETS_FROM],
          [maxLeo - OFFSETS_AT_END, maxLeo],
        ].map(([a, b]) => [Math.max(minStart, a), Math.max(minStart, Math.min(b, maxLeo))] as [number, number]),
      );
    }
    const replicas: ReplicaLogState[] = live.map((l) => {
      if (l.part === undefined || l.view === undefined) {
        return { broker: l.id, role: l.running ? 'no-replica' : 'down', leaderEpoch: -1, logStartOffset: 0, highWatermark: 0, logEndOffset: 0, records: [] };
      }
      const records: ReplicaLogRecord[] = [];
      for (const [from, to] of ranges) {
        for (let o = from; o < to; o++) {
          const r = l.view.recordAt(o);
          if (r === undefined) continue;
          const colon = r.indexOf(':');
          records.push({ offset: o, epoch: Number(r.slice(0, colon)), value: r.slice(colon + 1) });
        }
      }
      return {
        broker: l.id,
        role: l.part.isLeader ? 'leader' : 'follower',
        leaderEpoch: l.part.leaderEpoch,
        logStartOffset: l.view.logStartOffset,
        highWatermark: l.view.highWatermark,
        logEndOffset: l.view.logEndOffset,
        records,
      };
    });
    return { partition, atUs, kind, moment, ...(broker === undefined ? {} : { broker }), ranges, replicas };
  }

  private replicasFor(partition: string): readonly number[] {
    const fromImage = this.activeController()?.image.partitions.get(partition)?.replicas;
    if (fromImage !== undefined) {
      this.replicasOf.set(partition, fromImage);
      return fromImage;
    }
    return this.replicasOf.get(partition) ?? this.brokerIds;
  }

  private knownPartitions(): string[] {
    const image = this.activeController()?.image;
    return image === undefined ? [...this.replicasOf.keys()] : [...image.partitions.keys()];
  }

  /** Folds the committed partition states of the controller that recorded `node`'s entry into the ISR series. */
  private sampleIsr(timeUs: TimeUs, node: NodeId): void {
    if (!this.isController(node)) return;
    const image = (this.world.machine(node).process as Controller | undefined)?.image;
    if (image === undefined) return;
    for (const [key, p] of image.partitions) {
      let i = this.isrIndex.get(key);
      if (i === undefined) {
        i = this.isr.partitions.length;
        this.isrIndex.set(key, i);
        this.isr.partitions.push(key);
        this.isr.replicationFactor.push(p.replicas.length);
        this.isrLast.push({ isrSize: -1, leader: -2 });
        this.replicasOf.set(key, p.replicas);
      }
      const last = this.isrLast[i];
      if (last.isrSize !== p.isr.length || last.leader !== p.leader) {
        last.isrSize = p.isr.length;
        last.leader = p.leader;
        this.isr.changes.push({ atUs: timeUs, p: i, isrSize: p.isr.length, leader: p.leader });
      }
    }
  }

  private nameOf(id: NodeId): string {
    return this.world.machine(id).name;
  }

  // ---------------------------------------------------------------- the end

  /** The figures' data, for the partitions the findings name (or, with none, the first that changed leader). */
  finish(violations: readonly Violation[]): RunFigures {
    const endUs = this.world.nowUs;
    const focus: RunFigures['focus'] = [];
    for (const v of violations) {
      if (v.partition !== undefined && !focus.some((f) => f.partition === v.partition)) focus.push({ partition: v.partition, why: 'finding' });
      if (focus.length >= MAX_FOCUS_PARTITIONS) break;
    }
    if (focus.length === 0) {
      const changed = [...this.snapshots.entries()].find(([, list]) => list.some((s) => s.kind !== 'before-fault'));
      if (changed !== undefined) focus.push({ partition: changed[0], why: 'leader-change' });
    }
    const replicaLogs: ReplicaLogSnapshot[] = [];
    const sequences: MessageWindow[] = [];
    for (const { partition } of focus) {
      const list = this.snapshots.get(partition) ?? [];
      // The snapshot before the first fault: the state the faults started from.
      const beforeFault = list.filter((s) => s.kind === 'before-fault');
      const kept = list.filter((s) => s.kind !== 'before-fault' || s === beforeFault[0]);
      replicaLogs.push(...kept, this.takeSnapshot(partition, endUs, 'end', 'the end of the run, after healing'));
      sequences.push(...this.windowsFor(partition));
    }
    return { replicaLogs, sequences, throughput: throughputSeries(this.world.history, violations, endUs), isr: this.isr, consumerLag: consumerLagSeries(this.world.history, endUs), focus };
  }

  private windowsFor(partition: string): MessageWindow[] {
    const [topic] = splitKey(partition);
    const replicas = this.replicasFor(partition);
    const producers = new Set<NodeId>();
    for (const h of this.world.history) {
      if (h.entry.type === 'send' && h.entry.phase === 'invoke' && h.entry.topic === topic) producers.add(h.node);
      if (producers.size >= 2) break;
    }
    const controllers = this.world.machines().filter((m) => this.isController(m.id)).slice(0, 3).map((m) => m.id);
    const laneIds = [...[...producers].sort((a, b) => a - b), ...replicas, ...controllers];
    const lanes = laneIds.map((id) => ({ id, name: this.nameOf(id) }));
    const onLanes = new Set(laneIds);
    const out: MessageWindow[] = [];
    const relevant = this.captures.filter((c) => c.partition === undefined || c.partition === partition);
    for (const c of relevant) {
      const before: { r: MessageRecord; label: string }[] = [];
      const after: { r: MessageRecord; label: string }[] = [];
      c.records.forEach((r, i) => {
        if (!onLanes.has(r.from) || !onLanes.has(r.to) || r.from === r.to) return;
        if (this.isController(r.from) && this.isController(r.to)) return;
        const label = messageLabel(r.message, partition);
        if (label !== undefined) (i < c.triggerIndex ? before : after).push({ r, label });
      });
      // At most a few of each kind (sender, receiver, type): a steady stream of produce requests
      // would otherwise crowd out the fetches and heartbeats that tell the story.
      const chosen = [...capRepeats(before.reverse(), WINDOW_BEFORE).reverse(), ...capRepeats(after, WINDOW_AFTER)];
      if (chosen.length === 0) continue;
      const fromUs = Math.min(chosen[0].r.sendUs, c.atUs);
      const lastSendUs = Math.max(...chosen.map(({ r }) => r.sendUs), c.atUs);
      const late = (r: MessageRecord) => r.deliverUs !== undefined && r.deliverUs > lastSendUs + LATE_US;
      const toUs = Math.max(...chosen.map(({ r }) => (r.deliverUs === undefined || late(r) ? r.sendUs : r.deliverUs)), c.atUs);
      out.push({
        partition,
        atUs: c.atUs,
        moment: c.moment,
        lanes,
        messages: chosen.map(({ r, label }) => ({
          sendUs: r.sendUs,
          ...(late(r) ? { deliveredLateUs: r.deliverUs } : r.deliverUs === undefined ? {} : { deliverUs: r.deliverUs }),
          from: r.from,
          to: r.to,
          type: r.message.type,
          label,
        })),
        events: this.keyEvents
          .filter((e) => e.atUs >= fromUs && e.atUs <= toUs && onLanes.has(e.node) && (e.partition === undefined || e.partition === partition))
          .map((e) => ({ atUs: e.atUs, node: e.node, label: e.label })),
      });
    }
    return out;
  }
}

function splitKey(partition: string): [string, number] {
  const dash = partition.lastIndexOf('-');
  return [partition.slice(0, dash), Number(partition.slice(dash + 1))];
}

function mergeRanges(ranges: [number, number][]): [number, number][] {
  const sorted = ranges.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    // Ranges a gap of one or two offsets apart are drawn as one.
    if (last !== undefined && r[0] <= last[1] + 2) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

type Partitioned = { topic: string; partition: number };

function partitionsOf(message: Message): readonly Partitioned[] | undefined {
  const parts = (message as { partitions?: unknown }).partitions;
  return Array.isArray(parts) ? (parts as Partitioned[]) : undefined;
}

/** The first `limit` items, keeping at most three of each (sender, receiver, message type). */
function capRepeats<T extends { r: MessageRecord }>(items: readonly T[], limit: number): T[] {
  const seen = new Map<string, number>();
  const out: T[] = [];
  for (const item of items) {
    const key = `${item.r.from}>${item.r.to}:${item.r.message.type}`;
    const n = seen.get(key) ?? 0;
    if (n >= 3) continue;
    seen.set(key, n + 1);
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * The message type, shortened, with the fields that matter for `partition`; undefined for a
 * message about other partitions only, or metadata-log traffic that changes nothing for it.
 */
export function messageLabel(message: Message, partition: string): string | undefined {
  const [topic, index] = splitKey(partition);
  const short = message.type.replace(/Request$/, '').replace(/Response$/, ' resp');
  const parts = partitionsOf(message);
  const part = parts?.find((p) => p.topic === topic && p.partition === index) as Record<string, unknown> | undefined;
  if (parts !== undefined && parts.length > 0 && part === undefined) return undefined;
  const err = (code: unknown) => (typeof code === 'number' && code !== 0 ? ` ${errorName(code)}` : '');
  const m = message as unknown as Record<string, unknown>;
  switch (message.type) {
    case 'ProduceRequest':
      return part === undefined ? short : `Produce ×${(part.batch as { records: unknown[] }).records.length}`;
    case 'ProduceResponse':
      return part === undefined ? short : Number(part.error) !== 0 ? `Produce resp${err(part.error)}` : `Produce resp @${String(part.baseOffset)}`;
    case 'FetchRequest':
      return part === undefined ? short : `Fetch @${String(part.fetchOffset)} e${String(part.currentLeaderEpoch)}`;
    case 'FetchResponse': {
      if (part === undefined) return short;
      const diverging = part.divergingEpoch as { epoch: number; endOffset: number } | undefined;
      if (diverging !== undefined) return `Fetch resp diverging e${diverging.epoch}→${diverging.endOffset}`;
      const n = (part.batches as { records: unknown[] }[]).reduce((s, b) => s + b.records.length, 0);
      return `Fetch resp${err(part.error)} ${n} rec, hw ${String(part.highWatermark)}`;
    }
    case 'OffsetForLeaderEpochRequest':
      return part === undefined ? short : `OffsetForLeaderEpoch e${String(part.leaderEpoch)}`;
    case 'OffsetForLeaderEpochResponse':
      return part === undefined ? short : `OffsetForLeaderEpoch resp${err(part.error)} e${String(part.leaderEpoch)} end ${String(part.endOffset)}`;
    case 'MetadataUpdate': {
      const reg = (m.partitions as { topic: string; partition: number; leader: number; leaderEpoch: number; isr: number[] }[]).find((p) => p.topic === topic && p.partition === index);
      return reg === undefined ? 'MetadataUpdate' : `MetadataUpdate leader ${reg.leader} e${reg.leaderEpoch} isr [${reg.isr.join(',')}]`;
    }
    case 'AlterPartitionRequest':
      return part === undefined ? short : `AlterPartition isr [${(part.newIsrWithEpochs as { brokerId: number }[]).map((b) => b.brokerId).join(',')}]`;
    case 'AlterPartitionResponse':
      return part === undefined ? `AlterPartition resp${err(m.error)}` : `AlterPartition resp${err(part.error)} isr [${(part.isr as number[]).join(',')}]`;
    case 'RaftFetchRequest':
      return undefined;
    case 'RaftFetchResponse': {
      // Brokers follow the metadata log: show the records that change this partition or fence a broker.
      const changes: string[] = [];
      for (const b of m.records as { records: readonly Record<string, unknown>[] }[]) {
        for (const r of b.records) {
          if ((r.type === 'PartitionChangeRecord' || r.type === 'PartitionRecord') && r.topic === topic && r.partition === index) {
            changes.push(`${r.leader !== undefined ? `leader ${String(r.leader)}` : ''}${r.isr !== undefined ? ` isr [${(r.isr as number[]).join(',')}]` : ''}`.trim());
          } else if (r.type === 'BrokerRegistrationChangeRecord' && r.fenced !== undefined) changes.push(`${r.fenced ? 'fence' : 'unfence'} broker-${String(r.brokerId)}`);
        }
      }
      return changes.length === 0 ? undefined : `metadata: ${changes.join('; ')}`;
    }
    case 'BrokerHeartbeatRequest':
      return 'Heartbeat';
    case 'BrokerHeartbeatResponse':
      return `Heartbeat resp${m.isFenced === true ? ' fenced' : ''}${err(m.error)}`;
    default:
      return short + err(m.error);
  }
}

/** Bucket width: the smallest round width that gives at most 200 buckets. */
function bucketWidthUs(endUs: TimeUs): number {
  for (const ms of [10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000]) if (endUs / (ms * 1000) <= 200) return ms * 1000;
  return Math.ceil(endUs / 200 / 60_000_000) * 60_000_000;
}

/**
 * Producer sends per bucket of simulated time: sent (send() called), acknowledged, failed, and
 * acknowledged-then-lost (from the findings), with ack latency percentiles (send() to ack).
 */
export function throughputSeries(history: readonly RecordedEntry[], violations: readonly Violation[], endUs: TimeUs): ThroughputSeries {
  const bucketUs = bucketWidthUs(Math.max(1, endUs));
  const n = Math.max(1, Math.ceil(endUs / bucketUs));
  const buckets: ThroughputSeries['buckets'] = Array.from({ length: n }, (_, i) => ({ startUs: i * bucketUs, sent: 0, acked: 0, failed: 0, lost: 0 }));
  const latencies: number[][] = Array.from({ length: n }, () => []);
  const bucketOf = (t: number) => Math.min(n - 1, Math.floor(t / bucketUs));
  const invokedAt = new Map<string, TimeUs>();
  for (const h of history) {
    const e = h.entry;
    if (e.type !== 'send') continue;
    const key = `${h.node}\u0000${String(e.value)}`;
    if (e.phase === 'invoke') {
      invokedAt.set(key, h.timeUs);
      buckets[bucketOf(h.timeUs)].sent++;
    } else if (e.phase === 'ok') {
      const b = bucketOf(h.timeUs);
      buckets[b].acked++;
      const t0 = invokedAt.get(key);
      if (t0 !== undefined) latencies[b].push((h.timeUs - t0) / 1000);
    } else if (e.phase === 'fail') buckets[bucketOf(h.timeUs)].failed++;
  }
  for (const v of violations) if (v.check === 'lost-write') buckets[bucketOf(v.atMs * 1000)].lost++;
  latencies.forEach((l, i) => {
    if (l.length === 0) return;
    l.sort((a, b) => a - b);
    const rank = (q: number) => l[Math.min(l.length - 1, Math.ceil(q * l.length) - 1)];
    buckets[i].p50Ms = rank(0.5);
    buckets[i].p99Ms = rank(0.99);
    buckets[i].maxMs = l[l.length - 1];
  });
  return { bucketUs, buckets };
}

/**
 * Each consumer group's lag over time, summed over the partitions of the topics it subscribes to:
 * the partition's high watermark (what a consumer may read) minus the group's committed offset
 * there (nothing committed counts from 0), sampled at the end of each bucket. Undefined when the
 * run has no consumer group.
 */
export function consumerLagSeries(history: readonly RecordedEntry[], endUs: TimeUs): { group: string; points: { atUs: TimeUs; lag: number }[] }[] | undefined {
  const topicsOf = new Map<string, Set<string>>();
  for (const h of history) {
    if (h.entry.type !== 'subscribe') continue;
    const group = String(h.entry.group);
    const set = topicsOf.get(group) ?? new Set<string>();
    for (const t of (h.entry.topics ?? []) as string[]) set.add(t);
    topicsOf.set(group, set);
  }
  if (topicsOf.size === 0) return undefined;
  const bucketUs = bucketWidthUs(Math.max(1, endUs));
  const n = Math.max(1, Math.ceil(endUs / bucketUs));
  const hw = new Map<string, number>();
  const committed = new Map<string, number>();
  const groups = [...topicsOf.keys()];
  const out = groups.map((group) => ({ group, points: [] as { atUs: TimeUs; lag: number }[] }));
  const sample = (atUs: TimeUs) => {
    groups.forEach((group, i) => {
      const topics = topicsOf.get(group) as Set<string>;
      let lag = 0;
      for (const [tp, end] of hw) {
        if (!topics.has(tp.slice(0, tp.lastIndexOf('-')))) continue;
        lag += Math.max(0, end - (committed.get(`${group}/${tp}`) ?? 0));
      }
      out[i].points.push({ atUs, lag });
    });
  };
  let next = 0;
  for (const h of history) {
    while (next < n && h.timeUs >= (next + 1) * bucketUs) sample(++next * bucketUs);
    const e = h.entry;
    if (e.type === 'high-watermark' && typeof e.partition === 'string' && typeof e.hw === 'number') hw.set(e.partition, e.hw);
    else if (e.type === 'offset-commit' && typeof e.offset === 'number') committed.set(`${String(e.groupId)}/${String(e.topic)}-${Number(e.partition)}`, e.offset);
  }
  while (next < n) sample(Math.min(endUs, ++next * bucketUs));
  return out;
}
