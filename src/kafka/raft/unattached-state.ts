import { Deadline, orSentinel, unattachedOrProspectiveCanGrantVote, type ElectionState, type EpochState } from './epoch-state.js';

/**
 * Unattached (UnattachedState.java, Kafka 4.x): in an epoch without a known leader. "Voted" is
 * no longer a state of its own: it is Unattached with `votedId` set (4.x), and one vote per epoch
 * follows from keeping it. A voter's election timer sends it to Prospective (or, with pre-vote
 * off, straight to Candidate); an observer's never expires.
 */
export class UnattachedState implements EpochState {
  readonly role = 'unattached';

  constructor(
    readonly epoch: number,
    readonly leaderId: number | undefined,
    readonly votedId: number | undefined,
    readonly highWatermark: number | undefined,
    readonly electionTimer: Deadline,
  ) {}

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
