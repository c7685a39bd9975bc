import { InvariantError, SimulationError } from '../engine/errors.js';
import type { Simulator, EventTarget } from '../engine/simulator.js';
import type { Random } from '../engine/random.js';
import { US_PER_S, type TimeUs } from '../engine/time.js';
import { LatencyModel, type LatencySpec } from './latency.js';
import type { Message, NodeId } from './node.js';

/**
 * The virtual network: directed links between nodes, with latency, bandwidth, loss, duplication,
 * reordering and partitions (the faults a Jepsen nemesis injects with iptables).
 *
 * Links are created lazily, on the first send between two nodes. Each link owns its random
 * streams, forked by the link's name, so the draws one link makes do not depend on the traffic
 * of any other link: adding a client does not change the latencies the brokers see.
 *
 * Self-sends (a node sending to itself) go over the loopback interface: they are delivered with
 * zero latency, are never lost, duplicated or blocked (iptables partitions in Jepsen filter
 * traffic between hosts, not `lo`), and `setLink(a, a)`/`blockOneWay(a, a)` are rejected.
 *
 * Each directed link behaves as one TCP connection (Kafka keeps one connection per peer and
 * answers its requests in order). A partition stalls the connection rather than punching holes in
 * it: what is sent into a partition, or arrives while one is up, is held (TCP retransmits it) and
 * delivered in order once the partition heals, with everything sent after it queued behind. A
 * connection is reset, and what it holds is dropped, when:
 * - either end calls `disconnect` (Kafka's NetworkClient closes a connection when a request on it
 *   times out: NetworkClient.handleTimedOutRequests), which also drops answers in flight to it;
 * - an end's process stops (the kernel closes its sockets; a restarted process starts afresh);
 * - it has held data for longer than `connectionTimeoutMs` when the partition heals (the peer's
 *   request timeout, 30 s for Kafka's clients and replica fetchers, has closed it by then).
 */

/** The behaviour of one directed link. */
export interface LinkConfig {
  latency: LatencySpec;
  /** Infinity means no serialisation delay. */
  bandwidthBytesPerSec: number;
  /** Probability in [0, 1] that a message is lost on the wire. */
  lossRate: number;
  /** Probability in [0, 1] that a delivered message arrives twice. */
  duplicateRate: number;
  /** False (the default) keeps each directed link FIFO, as a TCP connection does. */
  reorder: boolean;
  /**
   * How long a connection may hold data across a partition before it counts as reset (default
   * 30000: Kafka's `request.timeout.ms` and `replica.socket.timeout.ms`).
   */
  connectionTimeoutMs: number;
}

/** Where a node sits; the rack and region latency matrices are keyed by these. */
export interface NodePlacement {
  rack?: string;
  region?: string;
}

export type DeliverFn = (from: NodeId, to: NodeId, message: Message) => void;
/** `to` learns that its connection with `from` was reset (a TCP RST from `from`'s kernel). */
export type ResetFn = (from: NodeId, to: NodeId) => void;

/**
 * Counters since the network was built. Once nothing is in flight,
 * `sent + duplicated === delivered + dropped + blocked + held`.
 */
export interface NetworkStats {
  sent: number;
  delivered: number;
  /** Lost on the wire (`lossRate`). */
  dropped: number;
  /** Extra copies scheduled (`duplicateRate`). */
  duplicated: number;
  /** Dropped because their connection was reset (by `disconnect`, a process stop, or a partition outlasting `connectionTimeoutMs`). */
  blocked: number;
  /** Held now by connections stalled behind a partition (a gauge, not a counter). */
  held: number;
}

/** Node ids are packed into link keys as `from * 2^21 + to`, which stays a safe integer. */
const NODE_ID_LIMIT = 2 ** 21;
const DEFAULT_SIZE_BYTES = 100;
const DEFAULT_PLACEMENT = 'default';
const LINK_CONFIG_KEYS: ReadonlySet<string> = new Set(['latency', 'bandwidthBytesPerSec', 'lossRate', 'duplicateRate', 'reorder', 'connectionTimeoutMs']);
/** Set in an event's kind to mark the release of a link's held messages (the low bits are the link index). */
const RELEASE_KIND = 1 << 30;
/** Set in an event's kind to mark a TCP reset (RST) travelling the link to its far end. */
const RESET_KIND = 1 << 29;
const LINK_INDEX_MASK = RESET_KIND - 1;

const BUILTIN_DEFAULTS: LinkConfig = {
  latency: { distribution: 'constant', ms: 0.5 },
  bandwidthBytesPerSec: Infinity,
  lossRate: 0,
  duplicateRate: 0,
  reorder: false,
  connectionTimeoutMs: 30_000,
};

const LOOPBACK: LinkConfig = {
  latency: { distribution: 'constant', ms: 0 },
  bandwidthBytesPerSec: Infinity,
  lossRate: 0,
  duplicateRate: 0,
  reorder: false,
  connectionTimeoutMs: Infinity,
};

/** A validated `setLink` patch, with its latency compiled once. */
interface LinkOverride {
  patch: Partial<LinkConfig>;
  latencyModel: LatencyModel | undefined;
}

/**
 * The state of one directed link. The effective config is cached here and refreshed when the
 * network's `configVersion` moves, so the hot path reads plain fields.
 */
class Link {
  configVersion = -1;
  latencyModel: LatencyModel = LatencyModel.constant(0);
  bandwidthBytesPerSec = Infinity;
  lossRate = 0;
  duplicateRate = 0;
  reorder = false;
  connectionTimeoutUs = 0;
  /** Messages stalled behind a partition, in order (allocated on the first stall). */
  held: Message[] | undefined = undefined;
  /** When the oldest held message was held. */
  heldSinceUs: TimeUs = 0;
  /** Whether a release of the held messages is scheduled. */
  releaseScheduled = false;
  /** Arrival events scheduled, and handled, on this link; arrivals up to `discardThrough` died with a reset. */
  scheduledCount = 0;
  arrivedCount = 0;
  discardThrough = 0;
  /** When the link finishes transmitting what is already queued on it. */
  linkFreeAtUs: TimeUs = 0;
  /** The latest arrival scheduled on this link: the FIFO floor for the next one. */
  lastArrivalUs: TimeUs = 0;

  constructor(
    /** The index of this link in creation order; it is the event `kind` of its deliveries. */
    readonly index: number,
    readonly from: NodeId,
    readonly to: NodeId,
    readonly latencyRng: Random,
    readonly lossRng: Random,
    readonly duplicateRng: Random,
  ) {}

  get loopback(): boolean {
    return this.from === this.to;
  }
}

export class Network implements EventTarget {
  readonly traceId: number;
  private readonly nodeIds: NodeId[] = [];
  private readonly placements = new Map<NodeId, Required<NodePlacement>>();
  private defaults: LinkConfig;
  private defaultLatencyModel: LatencyModel;
  private readonly overrides = new Map<number, LinkOverride>();
  private readonly rackLatency = new Map<string, LatencyModel>();
  private readonly regionLatency = new Map<string, LatencyModel>();
  /** Bumped by every config change; links compare it with their cached copy. */
  private configVersion = 0;
  private readonly linksByKey = new Map<number, Link>();
  /** Links by index: a delivery event's `kind` finds its link here without a payload object. */
  private readonly linksByIndex: Link[] = [];
  private readonly isolated = new Set<NodeId>();
  /** Directed link keys that drop everything (partition, bridge, one-way blocks). */
  private readonly blockedLinks = new Set<number>();
  /** Links holding messages behind a partition, in the order they stalled. */
  private readonly stalledLinks = new Set<Link>();
  private readonly counters: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, blocked: 0, held: 0 };

  constructor(
    private readonly sim: Simulator,
    private readonly rng: Random,
    private readonly deliver: DeliverFn,
    defaults?: Partial<LinkConfig>,
    private readonly onReset?: ResetFn,
  ) {
    this.traceId = sim.allocateTraceId();
    this.defaults = { ...BUILTIN_DEFAULTS };
    this.defaultLatencyModel = LatencyModel.from(this.defaults.latency);
    if (defaults !== undefined) this.setDefaults(defaults);
  }

  // ---------------------------------------------------------------- nodes

  /** Adds a node. Ids are non-negative integers below 2^21 so link keys stay exact. */
  addNode(id: NodeId, placement?: NodePlacement): void {
    if (!Number.isSafeInteger(id) || id < 0 || id >= NODE_ID_LIMIT) {
      throw new SimulationError(`node id must be an integer in [0, ${NODE_ID_LIMIT}), got ${String(id)}`);
    }
    if (this.placements.has(id)) throw new SimulationError(`node ${id} is already on the network`);
    const rack = placementName(placement?.rack, 'rack');
    const region = placementName(placement?.region, 'region');
    this.placements.set(id, { rack, region });
    this.nodeIds.push(id);
  }

  hasNode(id: NodeId): boolean {
    return this.placements.has(id);
  }

  /** Every node, in the order they were added. */
  nodes(): NodeId[] {
    return this.nodeIds.slice();
  }

  placement(id: NodeId): Required<NodePlacement> {
    return { ...this.knownPlacement(id, 'placement') };
  }

  // ---------------------------------------------------------------- configuration

  /** Changes the defaults every link without an override falls back to. */
  setDefaults(patch: Partial<LinkConfig>): void {
    const latencyModel = validatePatch(patch, 'network defaults');
    this.defaults = { ...this.defaults, ...definedFields(patch) };
    if (latencyModel !== undefined) this.defaultLatencyModel = latencyModel;
    this.configVersion++;
  }

  /** Overrides the directed link `from → to`. Patches accumulate; `clearLink` removes them. */
  setLink(from: NodeId, to: NodeId, patch: Partial<LinkConfig>): void {
    this.knownPair(from, to, 'setLink');
    if (from === to) throw new SimulationError(`setLink(${from}, ${to}): self-sends use loopback and cannot be configured`);
    const latencyModel = validatePatch(patch, `link ${from}→${to}`);
    const key = linkKey(from, to);
    const previous = this.overrides.get(key);
    this.overrides.set(key, {
      patch: { ...previous?.patch, ...definedFields(patch) },
      latencyModel: latencyModel ?? previous?.latencyModel,
    });
    this.configVersion++;
  }

  /** Removes every `setLink` override of `from → to` (for example when a slow-link fault ends). */
  clearLink(from: NodeId, to: NodeId): void {
    this.knownPair(from, to, 'clearLink');
    if (this.overrides.delete(linkKey(from, to))) this.configVersion++;
  }

  /** The latency between two racks, both ways (the same rack twice sets intra-rack latency). */
  setRackLatency(rackA: string, rackB: string, latency: LatencySpec): void {
    this.rackLatency.set(pairKey(placementName(rackA, 'rack'), placementName(rackB, 'rack')), LatencyModel.from(latency));
    this.configVersion++;
  }

  /** The latency between two regions, both ways; rack pairs take precedence over it. */
  setRegionLatency(regionA: string, regionB: string, latency: LatencySpec): void {
    const key = pairKey(placementName(regionA, 'region'), placementName(regionB, 'region'));
    this.regionLatency.set(key, LatencyModel.from(latency));
    this.configVersion++;
  }

  /**
   * The effective config of `from → to`. Latency comes from, in order: `setLink`, the rack pair,
   * the region pair, the defaults. The other fields come from `setLink`, then the defaults.
   */
  linkConfig(from: NodeId, to: NodeId): LinkConfig {
    this.knownPair(from, to, 'linkConfig');
    if (from === to) return { ...LOOPBACK, latency: { ...LOOPBACK.latency } };
    const override = this.overrides.get(linkKey(from, to));
    const config = { ...this.defaults, ...override?.patch };
    config.latency = { ...this.effectiveLatency(from, to, override).spec };
    return config;
  }

  private effectiveLatency(from: NodeId, to: NodeId, override: LinkOverride | undefined): LatencyModel {
    if (override?.latencyModel !== undefined) return override.latencyModel;
    const a = this.knownPlacement(from, 'link');
    const b = this.knownPlacement(to, 'link');
    return (
      this.rackLatency.get(pairKey(a.rack, b.rack)) ?? this.regionLatency.get(pairKey(a.region, b.region)) ?? this.defaultLatencyModel
    );
  }

  // ---------------------------------------------------------------- the hot path

  /**
   * Sends `message` from `from` to `to`. The message is transmitted when the link is free
   * (serialisation at the link's bandwidth), then travels for a latency sample, and arrives no
   * earlier than the previous arrival on the same link unless the link reorders.
   *
   * A message sent across a partition is held by its connection (TCP retransmits it) and goes
   * when the partition heals, unless the connection is reset first (see the class comment).
   * A lost message has still used the link's bandwidth (it died on the wire). Loss is decided
   * before duplication, so a message is lost, delivered once, or delivered twice.
   *
   * Allocates nothing per message once the link exists: the event's kind is the link index
   * and its payload is the message itself.
   */
  send(from: NodeId, to: NodeId, message: Message): void {
    const link = this.linkFor(from, to);
    const sizeBytes = messageSizeBytes(message);
    this.counters.sent++;
    if (link.loopback) {
      this.sim.schedule(this.sim.nowUs, this, link.index, message);
      return;
    }
    if (link.configVersion !== this.configVersion) this.refresh(link);
    if (link.held !== undefined && link.held.length > 0) {
      // Behind a stall: queue after what is held, so the connection stays in order.
      this.hold(link, message);
      return;
    }
    if (this.isBlocked(from, to)) {
      this.hold(link, message);
      return;
    }
    const sentUs = this.transmit(link, sizeBytes);
    if (link.lossRate > 0 && link.lossRng.chance(link.lossRate)) {
      this.counters.dropped++;
      return;
    }
    this.scheduleArrival(link, sentUs, message);
    if (link.duplicateRate > 0 && link.duplicateRng.chance(link.duplicateRate)) {
      this.counters.duplicated++;
      this.scheduleArrival(link, sentUs, message);
    }
  }

  /** Queues the bytes on the link; returns when the last byte leaves the sender. */
  private transmit(link: Link, sizeBytes: number): TimeUs {
    const startUs = Math.max(this.sim.nowUs, link.linkFreeAtUs);
    if (link.bandwidthBytesPerSec === Infinity) return startUs;
    const serialisationUs = Math.ceil((sizeBytes * US_PER_S) / link.bandwidthBytesPerSec);
    link.linkFreeAtUs = startUs + serialisationUs;
    return link.linkFreeAtUs;
  }

  private scheduleArrival(link: Link, sentUs: TimeUs, message: Message): void {
    let arrivalUs = sentUs + link.latencyModel.sampleUs(link.latencyRng);
    // TCP delivers a connection's bytes in order: a fast packet waits for the slow one before it.
    if (!link.reorder && arrivalUs < link.lastArrivalUs) arrivalUs = link.lastArrivalUs;
    if (arrivalUs > link.lastArrivalUs) link.lastArrivalUs = arrivalUs;
    link.scheduledCount++;
    this.sim.schedule(arrivalUs, this, link.index, message);
  }

  /**
   * A message arrives. Partitions are checked again here: Jepsen's partitions are iptables
   * DROP rules on the receiving host's INPUT chain, so a packet already in flight when the
   * partition starts does not get through; its connection holds it until the partition heals.
   */
  handleEvent(kind: number, payload: unknown): void {
    const link = this.linksByIndex[kind & LINK_INDEX_MASK];
    // Not `invariant(...)`: its message would be built on every delivery.
    if (link === undefined) throw new InvariantError(`network delivery for unknown link index ${kind}`);
    if ((kind & RELEASE_KIND) !== 0) return this.release(link);
    if ((kind & RESET_KIND) !== 0) {
      // An RST is a packet like any other: a partition drops it, and then the peer finds out
      // only through its own timeouts.
      if (!this.isBlocked(link.from, link.to)) this.onReset?.(link.from, link.to);
      return;
    }
    if (link.loopback) {
      this.counters.delivered++;
      this.deliver(link.from, link.to, payload as Message);
      return;
    }
    if (++link.arrivedCount <= link.discardThrough) {
      this.counters.blocked++;
      return;
    }
    if ((link.held !== undefined && link.held.length > 0) || this.isBlocked(link.from, link.to)) {
      this.hold(link, payload as Message);
      return;
    }
    this.counters.delivered++;
    this.deliver(link.from, link.to, payload as Message);
  }

  // ---------------------------------------------------------------- connections

  private hold(link: Link, message: Message): void {
    if (link.held === undefined) link.held = [];
    if (link.held.length === 0) {
      link.heldSinceUs = this.sim.nowUs;
      this.stalledLinks.add(link);
    }
    link.held.push(message);
    this.counters.held++;
  }

  /** After a block is lifted: every stalled link that can now get through schedules its release. */
  private releaseStalled(): void {
    for (const link of this.stalledLinks) {
      if (link.releaseScheduled || this.isBlocked(link.from, link.to)) continue;
      if (link.configVersion !== this.configVersion) this.refresh(link);
      let atUs = this.sim.nowUs + link.latencyModel.sampleUs(link.latencyRng);
      if (!link.reorder && atUs < link.lastArrivalUs) atUs = link.lastArrivalUs;
      link.releaseScheduled = true;
      this.sim.schedule(atUs, this, link.index | RELEASE_KIND);
    }
  }

  /** The retransmissions get through: everything held is delivered in order, unless the connection has timed out. */
  private release(link: Link): void {
    link.releaseScheduled = false;
    const held = link.held;
    if (held === undefined || held.length === 0 || this.isBlocked(link.from, link.to)) return;
    if (this.sim.nowUs - link.heldSinceUs > link.connectionTimeoutUs) return this.dropHeld(link);
    link.held = undefined;
    this.stalledLinks.delete(link);
    this.counters.held -= held.length;
    for (const message of held) {
      this.counters.delivered++;
      this.deliver(link.from, link.to, message);
    }
  }

  private dropHeld(link: Link): void {
    const count = link.held === undefined ? 0 : link.held.length;
    if (count === 0) return;
    link.held = undefined;
    this.stalledLinks.delete(link);
    this.counters.held -= count;
    this.counters.blocked += count;
  }

  /**
   * `node` closes its connection to `peer` (as Kafka's NetworkClient does when a request times
   * out): what either direction holds is dropped, and so is what is in flight to `node`, whose
   * socket is gone. What `node` already put on the wire still reaches `peer`, which reads it
   * before it sees the close.
   */
  disconnect(node: NodeId, peer: NodeId): void {
    this.knownPair(node, peer, 'disconnect');
    if (node === peer) return;
    const out = this.linksByKey.get(linkKey(node, peer));
    if (out !== undefined) this.dropHeld(out);
    const back = this.linksByKey.get(linkKey(peer, node));
    if (back !== undefined) this.resetInbound(back);
  }

  /**
   * `node`'s process stopped: every connection to or from it is gone with it. When the machine is
   * still up (`kernelAlive`: a crash, not a power loss), its kernel closes the sockets and each
   * peer it had a connection with gets a reset one link latency later.
   */
  resetConnections(node: NodeId, kernelAlive = false): void {
    this.knownPlacement(node, 'resetConnections');
    const peers = new Set<NodeId>();
    for (const link of this.linksByIndex) {
      if (link.loopback) continue;
      if (link.from === node) {
        this.dropHeld(link);
        peers.add(link.to);
      } else if (link.to === node) {
        this.resetInbound(link);
        peers.add(link.from);
      }
    }
    if (kernelAlive) for (const peer of peers) this.sendReset(node, peer);
  }

  /** `from`'s kernel answers a packet for a process that is not there: a reset goes back to `to`. */
  sendReset(from: NodeId, to: NodeId): void {
    if (from === to) return;
    const link = this.linkFor(from, to);
    if (link.configVersion !== this.configVersion) this.refresh(link);
    let atUs = this.sim.nowUs + link.latencyModel.sampleUs(link.latencyRng);
    if (!link.reorder && atUs < link.lastArrivalUs) atUs = link.lastArrivalUs;
    this.sim.schedule(atUs, this, link.index | RESET_KIND);
  }

  private resetInbound(link: Link): void {
    this.dropHeld(link);
    // On a FIFO link the arrivals come in scheduling order, so counting them says which are old.
    if (!link.reorder) link.discardThrough = link.scheduledCount;
  }

  private linkFor(from: NodeId, to: NodeId): Link {
    const link = this.linksByKey.get(linkKey(from, to));
    // Comparing the ends also rejects a non-integer id whose key happens to collide with a link's.
    if (link !== undefined && link.from === from && link.to === to) return link;
    return this.createLink(from, to);
  }

  private createLink(from: NodeId, to: NodeId): Link {
    this.knownPair(from, to, 'send');
    const stream = this.rng.fork(`link:${from}>${to}`);
    const index = this.linksByIndex.length;
    const link = new Link(index, from, to, stream.fork('latency'), stream.fork('loss'), stream.fork('duplicate'));
    this.linksByKey.set(linkKey(from, to), link);
    this.linksByIndex.push(link);
    return link;
  }

  /** Copies the effective config into the link's fields (only after a config change). */
  private refresh(link: Link): void {
    const override = this.overrides.get(linkKey(link.from, link.to));
    const config = { ...this.defaults, ...override?.patch };
    link.latencyModel = this.effectiveLatency(link.from, link.to, override);
    link.bandwidthBytesPerSec = config.bandwidthBytesPerSec;
    link.lossRate = config.lossRate;
    link.duplicateRate = config.duplicateRate;
    link.reorder = config.reorder;
    link.connectionTimeoutUs = config.connectionTimeoutMs * 1000;
    link.configVersion = this.configVersion;
  }

  // ---------------------------------------------------------------- partitions

  /** Cuts `node` off from every other node, both ways. Its loopback still works. */
  isolate(node: NodeId): void {
    this.knownPlacement(node, 'isolate');
    this.isolated.add(node);
  }

  /**
   * Nodes in different groups cannot talk; nodes named in no group are unaffected. This is
   * Jepsen's `complete-grudge` (jepsen.nemesis): only the named nodes form the universe.
   */
  partition(groups: NodeId[][]): void {
    const groupOf = new Map<NodeId, number>();
    groups.forEach((group, g) => {
      for (const node of group) {
        this.knownPlacement(node, 'partition');
        const other = groupOf.get(node);
        if (other !== undefined && other !== g) throw new SimulationError(`partition: node ${node} is in groups ${other} and ${g}`);
        groupOf.set(node, g);
      }
    });
    for (const [a, ga] of groupOf) {
      for (const [b, gb] of groupOf) if (ga !== gb) this.blockedLinks.add(linkKey(a, b));
    }
  }

  /** Ends a `partition(groups)`: the blocks between its groups are removed (blocks others added between the same pairs go too). */
  unpartition(groups: NodeId[][]): void {
    for (let g = 0; g < groups.length; g++) {
      for (let h = 0; h < groups.length; h++) {
        if (g === h) continue;
        for (const a of groups[g]) for (const b of groups[h]) this.blockedLinks.delete(linkKey(a, b));
      }
    }
    this.releaseStalled();
  }

  /** Drops `from → to` while `to → from` still works: the asymmetric partitions that confuse failure detectors. */
  blockOneWay(from: NodeId, to: NodeId): void {
    this.knownPair(from, to, 'blockOneWay');
    if (from === to) throw new SimulationError(`blockOneWay(${from}, ${to}): self-sends use loopback and are never blocked`);
    this.blockedLinks.add(linkKey(from, to));
  }

  /** Ends a `blockOneWay(from, to)`. */
  unblockOneWay(from: NodeId, to: NodeId): void {
    this.knownPair(from, to, 'unblockOneWay');
    this.blockedLinks.delete(linkKey(from, to));
    this.releaseStalled();
  }

  /**
   * Jepsen's `bridge` (jepsen.nemesis/bridge): the two sides cannot talk to each other, and the
   * bridge node, in the middle, talks to both. Each side's leader can then reach a majority
   * through the bridge, the classic way to get two leaders. A node on both sides is an error.
   */
  bridge(sideA: NodeId[], sideB: NodeId[], bridgeNode: NodeId): void {
    this.knownPlacement(bridgeNode, 'bridge');
    const a = sideA.filter((n) => n !== bridgeNode);
    const b = new Set(sideB.filter((n) => n !== bridgeNode));
    for (const n of [...a, ...b]) this.knownPlacement(n, 'bridge');
    for (const n of a) if (b.has(n)) throw new SimulationError(`bridge: node ${n} is on both sides`);
    for (const x of a) {
      for (const y of b) {
        this.blockedLinks.add(linkKey(x, y));
        this.blockedLinks.add(linkKey(y, x));
      }
    }
  }

  /** Ends an `isolate(node)`. Other blocks that name the node stay. */
  rejoin(node: NodeId): void {
    this.knownPlacement(node, 'rejoin');
    this.isolated.delete(node);
    this.releaseStalled();
  }

  /** Removes every block; stalled connections deliver what they hold (messages already dropped stay dropped). */
  heal(): void {
    this.isolated.clear();
    this.blockedLinks.clear();
    this.releaseStalled();
  }

  /** Whether a message sent now from `from` to `to` would get past the partitions. */
  canReach(from: NodeId, to: NodeId): boolean {
    this.knownPair(from, to, 'canReach');
    return from === to || !this.isBlocked(from, to);
  }

  private isBlocked(from: NodeId, to: NodeId): boolean {
    if (this.isolated.size === 0 && this.blockedLinks.size === 0) return false;
    return this.isolated.has(from) || this.isolated.has(to) || this.blockedLinks.has(linkKey(from, to));
  }

  // ---------------------------------------------------------------- observation

  stats(): NetworkStats {
    return { ...this.counters };
  }

  private knownPlacement(id: NodeId, what: string): Required<NodePlacement> {
    const placement = this.placements.get(id);
    if (placement === undefined) throw new SimulationError(`${what}: unknown node ${String(id)}`);
    return placement;
  }

  private knownPair(from: NodeId, to: NodeId, what: string): void {
    this.knownPlacement(from, what);
    this.knownPlacement(to, what);
  }
}

function linkKey(from: NodeId, to: NodeId): number {
  return from * NODE_ID_LIMIT + to;
}

/** An order-free key for a symmetric matrix entry. */
function pairKey(a: string, b: string): string {
  return JSON.stringify(a <= b ? [a, b] : [b, a]);
}

function placementName(value: unknown, what: string): string {
  if (value === undefined) return DEFAULT_PLACEMENT;
  if (typeof value !== 'string' || value === '') {
    throw new SimulationError(`${what} must be a non-empty string, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

function messageSizeBytes(message: Message): number {
  const sizeBytes = message.sizeBytes;
  if (sizeBytes === undefined) return DEFAULT_SIZE_BYTES;
  if (!(sizeBytes >= 0 && sizeBytes !== Infinity)) {
    throw new SimulationError(`message ${message.type}: sizeBytes must be a finite number ≥ 0, got ${String(sizeBytes)}`);
  }
  return sizeBytes;
}

/** The fields of `patch` that are set; `undefined` means "leave as is". */
function definedFields(patch: Partial<LinkConfig>): Partial<LinkConfig> {
  const out: Partial<LinkConfig> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** Throws a SimulationError naming the first bad field; returns the compiled latency, if any. */
function validatePatch(patch: Partial<LinkConfig>, where: string): LatencyModel | undefined {
  if (patch === null || typeof patch !== 'object') throw new SimulationError(`${where}: link config must be an object, got ${String(patch)}`);
  for (const key of Object.keys(patch)) {
    if (!LINK_CONFIG_KEYS.has(key)) throw new SimulationError(`${where}: unknown link config field ${JSON.stringify(key)}`);
  }
  checkRate(patch.lossRate, 'lossRate', where);
  checkRate(patch.duplicateRate, 'duplicateRate', where);
  const bandwidth = patch.bandwidthBytesPerSec;
  if (bandwidth !== undefined && !(typeof bandwidth === 'number' && bandwidth > 0)) {
    throw new SimulationError(`${where}: bandwidthBytesPerSec must be a positive number or Infinity, got ${String(bandwidth)}`);
  }
  if (patch.reorder !== undefined && typeof patch.reorder !== 'boolean') {
    throw new SimulationError(`${where}: reorder must be a boolean, got ${String(patch.reorder)}`);
  }
  const timeout = patch.connectionTimeoutMs;
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 0)) {
    throw new SimulationError(`${where}: connectionTimeoutMs must be a number ≥ 0 (or Infinity), got ${String(timeout)}`);
  }
  return patch.latency === undefined ? undefined : LatencyModel.from(patch.latency);
}

function checkRate(value: unknown, name: string, where: string): void {
  if (value === undefined) return;
  if (!(typeof value === 'number' && value >= 0 && value <= 1)) {
    throw new SimulationError(`${where}: ${name} must be a number in [0, 1], got ${String(value)}`);
  }
}
