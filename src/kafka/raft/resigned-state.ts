import { Deadline, type ElectionState, type EpochState } from './epoch-state.js';

/**
 * Resigned (ResignedState.java): a leader that gave up its epoch (check-quorum expiry, shutdown)
 * or restarted from a quorum-state file naming itself leader. It sends EndQuorumEpoch, with the
 * voters ranked by fetch offset so the most up-to-date runs first, and after its election timeout
 * moves to Unattached in the next epoch. It never votes in its own epoch, which keeps an
 * (offset, epoch) pair unique even if a power loss took unflushed entries from its log. A soft
 * state: nothing is written.
 */
export class ResignedState implements EpochState {
  readonly role = 'resigned';
  readonly highWatermark = undefined;
  private readonly unacked: Set<number>;

  constructor(
    readonly epoch: number,
    readonly localId: number,
    voters: readonly number[],
    readonly electionTimer: Deadline,
    readonly preferredSuccessors: readonly number[],
  ) {
    this.unacked = new Set(voters.filter((v) => v !== localId));
  }

  get leaderId(): number {
    return this.localId;
  }

  get votedId(): number {
    return this.localId;
  }

  election(): ElectionState {
    return { epoch: this.epoch, leaderId: this.localId, votedId: this.localId };
  }

  canGrantVote(): boolean {
    return false;
  }

  /** Voters that have not yet answered our EndQuorumEpoch. */
  unackedVoters(): number[] {
    return [...this.unacked].sort((a, b) => a - b);
  }

  acknowledgeResignation(voterId: number): void {
    this.unacked.delete(voterId);
  }

  hasElectionTimeoutExpired(nowUs: number): boolean {
    return this.electionTimer.isExpired(nowUs);
  }

  remainingElectionTimeUs(nowUs: number): number {
    return this.electionTimer.remainingUs(nowUs);
  }

  nextDeadlineUs(): number {
    return this.electionTimer.atUs;
  }
}
