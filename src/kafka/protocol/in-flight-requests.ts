/**
 * Requests a node has sent and not yet had answered, by correlation id (Kafka's
 * NetworkClient.inFlightRequests). Each has a timeout; a response after the timeout is ignored,
 * as Kafka ignores a response on a connection it has already closed. Timers come from the node's
 * context, passed in as functions, so this stays free of the world layer.
 */
export interface PendingRequest<Response> {
  readonly destination: number;
  onResponse(response: Response): void;
  onTimeout(): void;
}

export const REQUEST_TIMEOUT_TIMER = 'request-timeout';

export class InFlightRequests<Response extends { readonly correlationId: number }> {
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, { request: PendingRequest<Response>; timer: number }>();

  constructor(
    private readonly setTimer: (name: string, delayUs: number, data: number) => number,
    private readonly cancelTimer: (id: number) => void,
  ) {}

  /** A fresh correlation id for the next request. */
  newCorrelationId(): number {
    return this.nextCorrelationId++;
  }

  register(correlationId: number, request: PendingRequest<Response>, timeoutUs: number): void {
    const timer = this.setTimer(REQUEST_TIMEOUT_TIMER, timeoutUs, correlationId);
    this.pending.set(correlationId, { request, timer });
  }

  /** Hands a response to its request. Returns false for an unknown or expired correlation id. */
  complete(response: Response): boolean {
    const entry = this.pending.get(response.correlationId);
    if (entry === undefined) return false;
    this.pending.delete(response.correlationId);
    this.cancelTimer(entry.timer);
    entry.request.onResponse(response);
    return true;
  }

  /** Called from the node's `onTimer(REQUEST_TIMEOUT_TIMER, correlationId)`. */
  expire(correlationId: number): void {
    const entry = this.pending.get(correlationId);
    if (entry === undefined) return;
    this.pending.delete(correlationId);
    entry.request.onTimeout();
  }

  /** Fails every request to `destination` at once (a disconnect). */
  failAllTo(destination: number): void {
    for (const [id, entry] of [...this.pending]) {
      if (entry.request.destination !== destination) continue;
      this.pending.delete(id);
      this.cancelTimer(entry.timer);
      entry.request.onTimeout();
    }
  }

  inFlightTo(destination: number): number {
    let n = 0;
    for (const entry of this.pending.values()) if (entry.request.destination === destination) n++;
    return n;
  }

  get size(): number {
    return this.pending.size;
  }
}
