/**
 * RequestManager.java: at most one request in flight per destination, a timeout for each, and a
 * retry backoff after a failure (an error response or a timeout). A response that is not the one
 * expected (an older correlation id, or one sent before the last `resetAll`) is ignored, as
 * KafkaRaftClient ignores responses "no longer needed" after a state transition.
 *
 * Everything is deadline-based on the local clock, and the client's poll reads `nextDeadlineUs`
 * to know when to wake up: there are no timers of its own here.
 */
interface ConnectionState {
  /** The correlation id in flight, if any. */
  inFlight: number | undefined;
  /** When the request in flight times out, or when the backoff ends. */
  untilUs: number;
}

export class RequestManager {
  private readonly connections = new Map<number, ConnectionState>();
  private nextCorrelationId = 1;

  constructor(
    private readonly requestTimeoutUs: number,
    private readonly retryBackoffUs: number,
    /** A request timed out: the network client closes the connection (NetworkClient.handleTimedOutRequests). */
    private readonly onTimeout: (destination: number) => void = () => {},
  ) {}

  newCorrelationId(): number {
    return this.nextCorrelationId++;
  }

  /** No request in flight and no backoff running. */
  isReady(destination: number, nowUs: number): boolean {
    const c = this.connections.get(destination);
    if (c === undefined) return true;
    this.expire(destination, c, nowUs);
    return c.inFlight === undefined && nowUs >= c.untilUs;
  }

  onRequestSent(destination: number, correlationId: number, nowUs: number): void {
    this.connections.set(destination, { inFlight: correlationId, untilUs: nowUs + this.requestTimeoutUs });
  }

  isResponseExpected(destination: number, correlationId: number): boolean {
    return this.connections.get(destination)?.inFlight === correlationId;
  }

  /** A response was handled: ready at once on success, backing off after an error. */
  onResponseResult(destination: number, correlationId: number, success: boolean, nowUs: number): void {
    if (!this.isResponseExpected(destination, correlationId)) return;
    if (success) this.connections.delete(destination);
    else this.connections.set(destination, { inFlight: undefined, untilUs: nowUs + this.retryBackoffUs });
  }

  /** Forgets every request in flight and every backoff (on a state transition). */
  resetAll(): void {
    this.connections.clear();
  }

  /** Whether some request is in flight (and not yet timed out). */
  hasInFlight(nowUs: number): boolean {
    for (const [destination, c] of this.connections) {
      this.expire(destination, c, nowUs);
      if (c.inFlight !== undefined) return true;
    }
    return false;
  }

  /** The earliest future moment some destination becomes ready (a timeout or a backoff ending). */
  nextDeadlineUs(nowUs: number): number {
    let next = Infinity;
    for (const [destination, c] of [...this.connections]) {
      this.expire(destination, c, nowUs);
      if (c.inFlight === undefined && nowUs >= c.untilUs) this.connections.delete(destination);
      else next = Math.min(next, c.untilUs);
    }
    return next;
  }

  /** A request that timed out counts as a failure: back off before the next. */
  private expire(destination: number, c: ConnectionState, nowUs: number): void {
    if (c.inFlight !== undefined && nowUs >= c.untilUs) {
      c.inFlight = undefined;
      c.untilUs = nowUs + this.retryBackoffUs;
      this.onTimeout(destination);
    }
  }
}
