/**
 * A client's connections to brokers (producer and consumer), reduced to what matters for their semantics
 * (apache/kafka clients/src/main/java/org/apache/kafka/clients/NetworkClient.java and
 * InFlightRequests.java):
 * - requests in flight per broker, capped by max.in.flight.requests.per.connection;
 * - request.timeout.ms: a request unanswered that long closes the connection, and every request
 *   in flight on it fails as disconnected (NetworkClient.handleTimedOutRequests →
 *   processDisconnection); answers that arrive later on the dead connection are dropped;
 * - after a disconnect the broker is not contacted again for reconnect.backoff.ms, doubling up to
 *   reconnect.backoff.max.ms (ClusterConnectionStates);
 * - leastLoadedNode for metadata and InitProducerId.
 * There are no TCP connections in the simulation: a crashed broker's socket does not reset, so the
 * producer notices it only through request.timeout.ms.
 */
import type { Random } from '../../engine/random.js';
import type { GroupMessage } from '../protocol/group-messages.js';
import type { KafkaMessage } from '../protocol/messages.js';

export const PRODUCER_REQUEST_TIMEOUT_TIMER = 'producer-request-timeout';

/** Everything a client sends or receives: the data-plane messages and the group-coordinator ones. */
export type ClientMessage = KafkaMessage | GroupMessage;

export interface NetworkHost {
  nowMs(): number;
  send(to: number, message: ClientMessage): void;
  /** Closes the connection to `to` at the network level: what it still holds is dropped. */
  disconnect(to: number): void;
  setTimer(name: string, delayUs: number, data: unknown): number;
  cancelTimer(id: number): void;
}

export type ClientResponse = Extract<ClientMessage, { type: `${string}Response` }>;
type Response = ClientResponse;

interface PendingRequest {
  readonly destination: number;
  readonly onResponse: (response: Response) => void;
  readonly onDisconnect: () => void;
  readonly timer: number;
}

/** ClusterConnectionStates, reduced: when a broker may be contacted again after a disconnect. */
interface ConnectionState {
  failures: number;
  blackedOutUntilMs: number;
}

export class NetworkClient {
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly inFlight = new Map<number, number>();
  private readonly connections = new Map<number, ConnectionState>();

  constructor(
    private readonly host: NetworkHost,
    private readonly requestTimeoutMs: number,
    /** The reconnect backoff after `failures` consecutive disconnects (jitter included). */
    private readonly reconnectBackoffMs: (failures: number) => number,
    private readonly rng: Random,
    /** The name of the request-timeout timer this client's host routes back to `handleTimeout`. */
    private readonly timeoutTimerName: string = PRODUCER_REQUEST_TIMEOUT_TIMER,
  ) {}

  nowMs(): number {
    return this.host.nowMs();
  }

  /**
   * Sends a request expecting an answer; exactly one of the callbacks runs, unless the answer is
   * dropped by a later disconnect (then `onDisconnect`).
   */
  send(to: number, message: ClientMessage, onResponse: (response: Response) => void, onDisconnect: () => void, timeoutMs: number = this.requestTimeoutMs): void {
    const correlationId = this.nextCorrelationId++;
    const timer = this.host.setTimer(this.timeoutTimerName, Math.round(timeoutMs * 1000), correlationId);
    this.pending.set(correlationId, { destination: to, onResponse, onDisconnect, timer });
    this.inFlight.set(to, (this.inFlight.get(to) ?? 0) + 1);
    this.host.send(to, { ...message, correlationId } as ClientMessage);
  }

  /** Sends a request that gets no answer (a produce with acks=0). */
  sendOneWay(to: number, message: ClientMessage): void {
    this.host.send(to, { ...message, correlationId: this.nextCorrelationId++ } as ClientMessage);
  }

  /** A response arrived. Returns false when nothing waits for it (its connection was closed). */
  handleResponse(response: Response): boolean {
    const entry = this.pending.get(response.correlationId);
    if (entry === undefined) return false;
    this.forget(response.correlationId, entry);
    this.host.cancelTimer(entry.timer);
    const state = this.connections.get(entry.destination);
    if (state !== undefined) state.failures = 0;
    entry.onResponse(response);
    return true;
  }

  /** The request-timeout timer fired for `correlationId`: the connection is closed. */
  handleTimeout(correlationId: number): void {
    const entry = this.pending.get(correlationId);
    if (entry !== undefined) this.disconnect(entry.destination);
  }

  /** Closes the connection to `node`: every request in flight on it fails as disconnected. */
  disconnect(node: number): void {
    this.host.disconnect(node);
    const failed: PendingRequest[] = [];
    for (const [id, entry] of this.pending) {
      if (entry.destination !== node) continue;
      this.forget(id, entry);
      this.host.cancelTimer(entry.timer);
      failed.push(entry);
    }
    let state = this.connections.get(node);
    if (state === undefined) this.connections.set(node, (state = { failures: 0, blackedOutUntilMs: -Infinity }));
    state.blackedOutUntilMs = this.host.nowMs() + this.reconnectBackoffMs(state.failures);
    state.failures++;
    for (const entry of failed) entry.onDisconnect();
  }

  inFlightCount(node: number): number {
    return this.inFlight.get(node) ?? 0;
  }

  /** NetworkClient.isReady: not backing off after a disconnect, and a free in-flight slot. */
  isReady(node: number, maxInFlight: number, nowMs: number): boolean {
    return !this.isBlackedOut(node, nowMs) && this.inFlightCount(node) < maxInFlight;
  }

  /** When a blacked-out node may be contacted again (ClusterConnectionStates.connectionDelay). */
  connectionDelayMs(node: number, nowMs: number): number {
    const state = this.connections.get(node);
    return state === undefined ? 0 : Math.max(0, state.blackedOutUntilMs - nowMs);
  }

  /**
   * NetworkClient.leastLoadedNode: starting at a random offset, the first node with nothing in
   * flight, else the one with the fewest requests in flight. Nodes backing off after a disconnect
   * are skipped; undefined when every node is (see `earliestReconnectMs`).
   */
  leastLoadedNode(candidates: readonly number[], nowMs: number): number | undefined {
    if (candidates.length === 0) return undefined;
    const offset = this.rng.int(0, candidates.length - 1);
    let best: number | undefined;
    let bestInFlight = Infinity;
    for (let i = 0; i < candidates.length; i++) {
      const node = candidates[(offset + i) % candidates.length];
      if (this.isBlackedOut(node, nowMs)) continue;
      const n = this.inFlightCount(node);
      if (n === 0) return node;
      if (n < bestInFlight) {
        best = node;
        bestInFlight = n;
      }
    }
    return best;
  }

  /** The earliest time one of `candidates` stops backing off. */
  earliestReconnectMs(candidates: readonly number[], nowMs: number): number {
    let earliest = Infinity;
    for (const node of candidates) earliest = Math.min(earliest, nowMs + this.connectionDelayMs(node, nowMs));
    return earliest;
  }

  private isBlackedOut(node: number, nowMs: number): boolean {
    const state = this.connections.get(node);
    return state !== undefined && nowMs < state.blackedOutUntilMs;
  }

  private forget(correlationId: number, entry: PendingRequest): void {
    this.pending.delete(correlationId);
    const n = (this.inFlight.get(entry.destination) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(entry.destination);
    else this.inFlight.set(entry.destination, n);
  }
}
