import { Deadline, EpochElection, orSentinel, unattachedOrProspectiveCanGrantVote, type ElectionState, type EpochState } from './epoch-state.js';

/**
 * Prospective (ProspectiveState.java, KIP-996 pre-vote): a voter that would like to run asks
 * the others whether they would vote for it, without bumping its epoch. Only a majority of
 * PreVote grants lets it become Candidate (epoch + 1); otherwise it goes back to Follower or
 * Unattached in the same epoch. So a node that was cut off, and whose log fell behind, cannot
 * force the quorum into a new epoch when it comes back. It keeps the epoch's leader and vote,
 * and it is not durable (nothing in the quorum-state file changes).
 */
export class ProspectiveState implements EpochState {
  readonly role = 'prospective';
  readonly epochElection: EpochElection;

  constructor(
    readonly epoch: number,
    readonly localId: number,
    readonly leaderId: number | undefined,
    readonly votedId: number | undefined,
    voters: readonly number[],
    readonly highWatermark: number | undefined,
    readonly electionTimer: Deadline,
  ) {
    this.epochElection = new EpochElection(voters, localId);
  }

  election(): ElectionState {
    return { epoch: this.epoch, leaderId: orSentinel(this.leaderId), votedId: orSentinel(this.votedId) };
  }

  canGrantVote(candidateId: number, isLogUpToDate: boolean, preVote: boolean): boolean {
    return unattachedOrProspectiveCanGrantVote(this, candidateId, isLogUpToDate, preVote);
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
