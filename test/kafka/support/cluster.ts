import { World } from '../../../src/world/world.js';
import { Broker } from '../../../src/kafka/broker/broker.js';
import type { BrokerConfig } from '../../../src/kafka/broker/broker-config.js';
import { Controller, type ControllerConfig, type TopicSpec } from '../../../src/kafka/controller/controller.js';
import type { Acks } from '../../../src/kafka/protocol/messages.js';
import type { ProtocolSwitches } from '../../../src/kafka/protocol/switches.js';
import type { LatencySpec } from '../../../src/world/latency.js';
import { TestProducer } from './test-producer.js';
import { ReplicationInvariants, type ReplicaSnapshot, type ReplicationView } from '../../../src/check/replication-invariants.js';
import type { Partition } from '../../../src/kafka/broker/partition.js';

export const CONTROLLER_ID = 1000;
export const PRODUCER_ID = 2000;

export interface TestClusterOptions {
  seed?: number;
  brokers?: number;
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
  readonly topic: TopicSpec;

  constructor(o: TestClusterOptions = {}) {
    this.world = new World({ seed: o.seed ?? 1, network: { latency: o.latency ?? { distribution: 'exponential', meanMs: 0.5, minMs: 0.1 } } });
    this.brokerIds = Array.from({ length: o.brokers ?? 3 }, (_, i) => i + 1);
    this.topic = o.topic ?? { name: 'orders', partitions: 1, replicationFactor: 3 };
    const switches = o.switches ?? {};
    this.world.addMachine({
      id: CONTROLLER_ID,
      name: 'controller',
      factory: (ctx) => new Controller(ctx, { controllerId: CONTROLLER_ID, topics: [this.topic], config: o.controllerConfig, switches }),
    });
    for (const id of this.brokerIds) {
      this.world.addMachine({
        id,
        name: `broker-${id}`,
        rack: String.fromCharCode(96 + id),
        factory: (ctx) => new Broker(ctx, { brokerId: id, controllerId: CONTROLLER_ID, config: o.brokerConfig, switches }),
      });
    }
    this.world.addMachine({ id: PRODUCER_ID, name: 'producer', factory: (ctx) => new TestProducer(ctx, this.topic.name, this.brokerIds, o.acks ?? -1) });
    this.world.startAll();
  }

  broker(id: number): Broker {
    return this.world.machine(id).process as Broker;
  }

  controller(): Controller {
    return this.world.machine(CONTROLLER_ID).process as Controller;
  }

  producer(): TestProducer {
    return this.world.machine(PRODUCER_ID).process as TestProducer;
  }

  /** The controller's view of partition `p`. */
  partitionState(p = 0) {
    return this.controller().image.partitions.get(`${this.topic.name}-${p}`);
  }

  /** Runs for `ms`, checking the replication invariants every `stepMs` if a checker is attached. */
  runForMs(ms: number, stepMs = 50): void {
    const end = this.world.nowUs + Math.round(ms * 1000);
    if (this.invariants === undefined) {
      this.world.runUntil(end);
      return;
    }
    while (this.world.nowUs < end) {
      this.world.runUntil(Math.min(end, this.world.nowUs + stepMs * 1000));
      this.invariants.check(this.world.nowUs / 1000);
    }
  }

  invariants: ReplicationInvariants | undefined;

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
          if (part !== undefined) out.push(snapshot(id, part));
        }
        return out;
      },
    };
  }

  /** Acknowledged values missing from the leader's log at the end (Jepsen's lost-write). */
  lostWrites(p = 0): string[] {
    const leader = this.partitionState(p)?.leader ?? -1;
    const present = new Set(leader > 0 ? this.logValues(leader, p) : []);
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

function snapshot(broker: number, p: Partition): ReplicaSnapshot {
  const batches = p.log.batchesFrom(p.log.logStartOffset);
  return {
    broker,
    isLeader: p.isLeader,
    leaderEpoch: p.leaderEpoch,
    highWatermark: p.log.highWatermark,
    logStartOffset: p.log.logStartOffset,
    logEndOffset: p.log.logEndOffset,
    isr: p.maximalIsr,
    recordAt(offset: number) {
      for (const b of batches) {
        if (offset >= b.baseOffset && offset < b.baseOffset + b.records.length) return `${b.partitionLeaderEpoch}:${b.records[offset - b.baseOffset].value}`;
      }
      return undefined;
    },
  };
}
