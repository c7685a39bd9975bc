import { invariant } from '../../engine/errors.js';

/** The Raft roles (QuorumState's class comment, Kafka 4.x). */
export type RaftRole = 'unattached' | 'prospective' | 'candidate' | 'leader' | 'follower' | 'resigned';

/**
 * What the `quorum-state` file holds (ElectionState, data_version 0): the epoch, the leader if
 * one is known, and the candidate this node voted for in the epoch. -1 means none, as in Kafka's
 * JSON. It is written before the in-memory state changes (QuorumState.durableTransitionTo).
 */
export interface ElectionState {
  readonly epoch: number;
  readonly leaderId: number;
  readonly votedId: number;
}

/** A deadline on the node's local clock (org.apache.kafka.common.utils.Timer). */
export class Deadline {
  private constructor(readonly atUs: number) {}

  static after(nowUs: number, durationUs: number): Deadline {
    return new Deadline(durationUs === Infinity ? Infinity : nowUs + durationUs);
  }

  static never(): Deadline {
    return new Deadline(Infinity);
  }

  isExpired(nowUs: number): boolean {
    return nowUs >= this.atUs;
  }

  remainingUs(nowUs: number): number {
    return Math.max(0, this.atUs - nowUs);
  }
}

/**
 * One role's state (EpochState.java). A transition replaces the object (QuorumState), so each
 * class holds only what its role needs. `canGrantVote` is the role's answer to a Vote request
 * once the log comparison is known (KRAFT.md §3.2's table).
 */
export interface EpochState {
  readonly role: RaftRole;
  readonly epoch: number;
  /** The leader of this epoch as this node knows it. */
  readonly leaderId: number | undefined;
  /** The candidate this node voted for in this epoch. */
  readonly votedId: number | undefined;
  readonly highWatermark: number | undefined;
  /** What a durable transition into this state writes. */
  election(): ElectionState;
  canGrantVote(candidateId: number, isLogUpToDate: boolean, preVote: boolean): boolean;
  /** The earliest deadline this state needs a poll for (local µs; Infinity if none). */
  nextDeadlineUs(): number;
}

/**
 * The votes of one election, standard or PreVote (internals/EpochElection.java). The node's own
 * vote is recorded as granted when the election starts.
 */
export class EpochElection {
  private readonly granted = new Set<number>();
  private readonly rejected = new Set<number>();

  constructor(
    readonly voters: readonly number[],
    localId: number,
  ) {
    this.granted.add(localId);
  }

  /** CandidateState.recordGrantedVote / recordRejectedVote: a voter answers once per election. */
  recordVote(voterId: number, granted: boolean): void {
    invariant(this.voters.includes(voterId), `vote from ${voterId}, who is not a voter`);
    const other = granted ? this.rejected : this.granted;
    invariant(!other.has(voterId), `voter ${voterId} both granted and rejected the same election`);
    (granted ? this.granted : this.rejected).add(voterId);
  }

  get majority(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  isVoteGranted(): boolean {
    return this.granted.size >= this.majority;
  }

  /** The election can no longer be won: granted + unrecorded < majority. */
  isVoteRejected(): boolean {
    return this.granted.size + this.unrecordedVoters().length < this.majority;
  }

  unrecordedVoters(): number[] {
    return this.voters.filter((v) => !this.granted.has(v) && !this.rejected.has(v));
  }

  grantingVoters(): number[] {
    return this.voters.filter((v) => this.granted.has(v));
  }
}

/** QuorumState.unattachedOrProspectiveCanGrantVote: one standard vote per epoch, none once a leader is known. */
export function unattachedOrProspectiveCanGrantVote(
  state: { readonly votedId: number | undefined; readonly leaderId: number | undefined },
  candidateId: number,
  isLogUpToDate: boolean,
  preVote: boolean,
): boolean {
  if (preVote) return isLogUpToDate;
  if (state.votedId !== undefined) return state.votedId === candidateId;
  if (state.leaderId !== undefined) return false;
  return isLogUpToDate;
}

/** -1 for an absent id, as the quorum-state file and the wire spell it. */
export function orSentinel(id: number | undefined): number {
  return id ?? -1;
}
