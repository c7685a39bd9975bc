import {
  EMPTY_ASSIGNMENT,
  type ConsumerProtocolSubscription,
  type JoinGroupRequestProtocol,
  type JoinGroupResponse,
  type MemberAssignment,
  type SyncGroupResponse,
} from '../protocol/group-messages.js';

/** A parked JoinGroup: the response fields; the responder adds type, correlation id and size. */
export type JoinGroupResponseData = Omit<JoinGroupResponse, 'type' | 'correlationId' | 'sizeBytes'>;
export type SyncGroupResponseData = Omit<SyncGroupResponse, 'type' | 'correlationId' | 'sizeBytes'>;

/** Completes a parked request exactly once (Kafka's CompletableFuture). */
export type JoinResponder = (data: JoinGroupResponseData) => void;
export type SyncResponder = (data: SyncGroupResponseData) => void;

/**
 * A classic group member
 * (group-coordinator/src/main/java/org/apache/kafka/coordinator/group/classic/ClassicGroupMember.java).
 * The awaiting join/sync futures are responders; `isNew` marks a member added in this join phase.
 */
export class ClassicGroupMember {
  /** The future completed once the join phase ends (ClassicGroupMember.awaitingJoinFuture). */
  awaitingJoin: JoinResponder | null = null;
  /** The future completed once the leader's assignment is stored (awaitingSyncFuture). */
  awaitingSync: SyncResponder | null = null;
  isNew = false;

  constructor(
    readonly memberId: string,
    readonly groupInstanceId: string | null,
    readonly clientId: string,
    readonly clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    public supportedProtocols: readonly JoinGroupRequestProtocol[],
    public assignment: MemberAssignment = EMPTY_ASSIGNMENT,
  ) {}

  isStaticMember(): boolean {
    return this.groupInstanceId !== null;
  }

  isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  /** ClassicGroupMember.metadata: the metadata sent for `protocolName`. */
  metadata(protocolName: string | null): ConsumerProtocolSubscription {
    for (const p of this.supportedProtocols) if (p.name === protocolName) return p.metadata;
    throw new Error(`IllegalArgumentException: Member does not support protocol ${protocolName}`);
  }

  /**
   * ClassicGroupMember.hasSatisfiedHeartbeat: a member awaiting a join or sync response
   * satisfies its heartbeat, unless it is new (new members time out even while parked).
   */
  hasSatisfiedHeartbeat(): boolean {
    if (this.isNew) return false;
    return this.isAwaitingJoin() || this.isAwaitingSync();
  }

  /** ClassicGroupMember.matches: the same protocols, in the same order, with the same metadata. */
  matches(protocols: readonly JoinGroupRequestProtocol[]): boolean {
    if (protocols.length !== this.supportedProtocols.length) return false;
    for (let i = 0; i < protocols.length; i++) {
      const a = protocols[i];
      const b = this.supportedProtocols[i];
      if (a.name !== b.name || !deepEqual(a.metadata, b.metadata)) return false;
    }
    return true;
  }

  /** ClassicGroupMember.vote: the first of this member's protocols (by preference) among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    for (const p of this.supportedProtocols) if (candidates.has(p.name)) return p.name;
    throw new Error('IllegalArgumentException: Member does not support any of the candidate protocols');
  }

  /** ClassicGroupMember.hasAssignment: a non-empty assignment. */
  hasAssignment(): boolean {
    return this.assignment !== EMPTY_ASSIGNMENT;
  }
}

/** ClassicGroupMember.plainProtocolSet. */
export function plainProtocolSet(protocols: readonly JoinGroupRequestProtocol[]): Set<string> {
  return new Set(protocols.map((p) => p.name));
}

/** Structural equality of plain data (what Kafka's byte-array equality is to serialized metadata). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], bb[i])) return false;
    return true;
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}
