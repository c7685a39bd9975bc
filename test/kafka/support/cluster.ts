import { World } from '../../../src/world/world.js';
import { Broker } from '../../../src/kafka/broker/broker.js';
import type { BrokerConfig } from '../../../src/kafka/broker/broker-config.js';
import { Controller, type ControllerConfig, type TopicSpec } from '../../../src/kafka/controller/controller.js';
import type { Acks } from '../../../src/kafka/protocol/messages.js';
import type { ProtocolSwitches } from '../../../src/kafka/protocol/switches.js';
import type { LatencySpec } from '../../../src/world/latency.js';
import { TestProducer } from './test-producer.js';
import { ReplicationInvariants, type ReplicaSnapshot, type ReplicationView } from '../../../src/check/replication-invariants.js';
import { replicaSnapshot } from '../../../src/scenario/replication-view.js';

export const CONTROLLER_ID = 1000;
const CHECKED_EVENTS = new Set(['high-watermark', 'become-leader', 'become-follower', 'follower-append', 'leader-append', 'truncate', 'broker-start']);
export const PRODUCER_ID = 2000;

export interface TestClusterOptions {
  seed?: number;
  brokers?: number;
  /** Controllers in the KRaft quorum (ids 1000, 1001, ...); default 1. */
  controllers?: number;
  topic?: TopicSpec;
  brokerConfig?: Partial<BrokerConfig>;
  controllerConfig?: Partial<ControllerConfig>;
  switches?: Partial<ProtocolSwitches>;
  acks?: Acks;
  latency?: LatencySpec;
}

/** A small Kafka cluster on a simulated world: brokers 1..N, one controller, one test producer. */
export class TestCluster {
  readonly world: World;
  readonly brokerIds: number[];
  readonly controllerIds: number[];
  readonly topic: TopicSpec;

  constructor(o: TestClusterOptions = {}) {
    this.world = new World({
      seed: o.seed ?? 1,
      network: { latency: o.latency ?? { distribution: 'exponential', meanMs: 0.5, minMs: 0.1 } },
      // The invariants are checked whenever a broker records a protocol event: as events happen.
      onHistory: (timeUs, _node, entry) => {
        if (this.invariants !== undefined && CHECKED_EVENTS.has(entry.type)) this.invariants.check(timeUs / 1000, typeof entry.partition === 'string' ? entry.partition : undefined);
      },
    });
    this.brokerIds = Array.from({ length: o.brokers ?? 3 }, (_, i) => i + 1);
    this.topic = o.topic ?? { name: 'orders', partitions: 1, replicationFactor: 3 };
    const switches = o.switches ?? {};
    this.controllerIds = Array.from({ length: o.controllers ?? 1 }, (_, i) => CONTROLLER_ID + i);
    for (const id of this.controllerIds) {
      this.world.addMachine({
        id,
        name: `controller-${id}`,
        factory: (ctx) => new Controller(ctx, { controllerId: id, voters: this.controllerIds, topics: [this.topic], config: o.controllerConfig, switches }),
      });
    }
    for (const id of this.brokerIds) {
      this.world.addMachine({
        id,
        name: `broker-${id}`,
        rack: String.fromCharCode(96 + id),
        factory: (ctx) => new Broker(ctx, { brokerId: id, controllerIds: this.controllerIds, config: o.brokerConfig, switches }),
      });
    }
    this.world.addMachine({ id: PRODUCER_ID, name: 'producer', factory: (ctx) => new TestProducer(ctx, this.topic.name, this.brokerIds, o.acks ?? -1) });
    this.world.startAll();
  }

  broker(id: number): Broker {
    return this.world.machine(id).process as Broker;
  }

  /** The active controller (the quorum leader), or any live controller when none is active. */
  controller(): Controller {
    const live = this.controllerIds.map((id) => this.world.machine(id).process as Controller | undefined).filter((c): c is Controller => c !== undefined);
    return live.find((c) => c.isActive) ?? live[0];
  }

  producer(): TestProducer {
    return this.world.machine(PRODUCER_ID).process as TestProducer;
  }

  /** The controller's view of partition `p`. */
  partitionState(p = 0) {
    return this.controller().image.partitions.get(`${this.topic.name}-${p}`);
  }

  runForMs(ms: number): void {
    this.world.runUntil(this.world.nowUs + Math.round(ms * 1000));
  }

  invariants: ReplicationInvariants | undefined;

  /** Runs until a history entry matching `match` is recorded (or `maxMs` passes); returns it. */
  runUntilRecorded(match: (entry: { type: string } & Record<string, unknown>, node: number) => boolean, maxMs = 60_000): ({ type: string } & Record<string, unknown>) | undefined {
    let seen = this.world.history.length;
    let found: ({ type: string } & Record<string, unknown>) | undefined;
    this.world.runUntil({
      timeUs: this.world.nowUs + maxMs * 1000,
      until: () => {
        const h = this.world.history;
        for (; seen < h.length; seen++) {
          if (match(h[seen].entry, h[seen].node)) {
            found = h[seen].entry;
            return true;
          }
        }
        return false;
      },
    });
    return found;
  }

  /** Attaches the online replication invariants (checked as the run goes on). */
  checkInvariants(): ReplicationInvariants {
    this.invariants = new ReplicationInvariants(this.replicationView());
    return this.invariants;
  }

  replicationView(): ReplicationView {
    return {
      partitions: () => Array.from({ length: this.topic.partitions }, (_, p) => `${this.topic.name}-${p}`),
      liveReplicas: (key) => {
        const out: ReplicaSnapshot[] = [];
        for (const id of this.brokerIds) {
          const m = this.world.machine(id);
          if (m.state === 'stopped') continue;
          const part = (m.process as Broker).replicaManager.partition(key);
          if (part !== undefined) out.push(replicaSnapshot(id, part, m.incarnation));
        }
        return out;
      },
    };
  }

  /**
   * Acknowledged values missing from the log at the end (Jepsen's lost-write): the leader's log,
   * or, when the partition has no leader (offline: unavailable, which is not loss), every
   * replica's log.
   */
  lostWrites(p = 0): string[] {
    const leader = this.partitionState(p)?.leader ?? -1;
    const present = new Set(leader > 0 ? this.logValues(leader, p) : this.brokerIds.flatMap((b) => this.logValues(b, p)));
    return this.producer()
      .outcomes.filter((o) => o.status === 'ok' && o.partition === p && !present.has(o.value))
      .map((o) => o.value);
  }

  /** Every value in broker `id`'s log of partition `p`, by offset. */
  logValues(id: number, p = 0): string[] {
    const part = this.broker(id)?.replicaManager.partition(`${this.topic.name}-${p}`);
    if (part === undefined) return [];
    return part.log.batchesFrom(part.log.logStartOffset).flatMap((b) => b.records.map((r) => r.value));
  }
}

