import { Broker } from '../../../src/kafka/broker/broker.js';
import type { BrokerConfig } from '../../../src/kafka/broker/broker-config.js';
import { KafkaProducer, type KafkaProducerOptions } from '../../../src/kafka/client/producer/kafka-producer.js';
import { Controller, type ControllerConfig, type TopicSpec } from '../../../src/kafka/controller/controller.js';
import type { ProtocolSwitches } from '../../../src/kafka/protocol/switches.js';
import type { LatencySpec } from '../../../src/world/latency.js';
import type { HistoryEntry } from '../../../src/world/node.js';
import { World } from '../../../src/world/world.js';

export const CONTROLLER_ID = 1000;
export const FIRST_PRODUCER_ID = 2000;

export interface ProducerClusterOptions {
  seed?: number;
  brokers?: number;
  topics?: TopicSpec[];
  brokerConfig?: Partial<BrokerConfig>;
  controllerConfig?: Partial<ControllerConfig>;
  switches?: Partial<ProtocolSwitches>;
  latency?: LatencySpec;
}

export type ProducerSetup = Omit<KafkaProducerOptions, 'bootstrap'> & { bootstrap?: readonly number[] };

/**
 * Brokers 1..N and a controller on a simulated world, with real KafkaProducers added on demand
 * (machines 2000, 2001, …). Built as test/kafka/support/cluster.ts builds its cluster.
 */
export class ProducerCluster {
  readonly world: World;
  readonly brokerIds: number[];
  readonly topics: TopicSpec[];
  readonly producerIds: number[] = [];

  constructor(o: ProducerClusterOptions = {}) {
    this.world = new World({ seed: o.seed ?? 1, network: { latency: o.latency ?? { distribution: 'exponential', meanMs: 0.5, minMs: 0.1 } } });
    this.brokerIds = Array.from({ length: o.brokers ?? 3 }, (_, i) => i + 1);
    this.topics = o.topics ?? [{ name: 'orders', partitions: 1, replicationFactor: 3 }];
    const switches = o.switches ?? {};
    this.world.addMachine({
      id: CONTROLLER_ID,
      name: 'controller',
      factory: (ctx) => new Controller(ctx, { controllerId: CONTROLLER_ID, voters: [CONTROLLER_ID], topics: this.topics, config: o.controllerConfig, switches }),
    });
    for (const id of this.brokerIds) {
      this.world.addMachine({
        id,
        name: `broker-${id}`,
        rack: String.fromCharCode(96 + id),
        factory: (ctx) => new Broker(ctx, { brokerId: id, controllerIds: [CONTROLLER_ID], config: o.brokerConfig, switches }),
      });
    }
    this.world.startAll();
  }

  /** Adds and starts a producer process; returns its node id. */
  addProducer(setup: ProducerSetup = {}): number {
    const id = FIRST_PRODUCER_ID + this.producerIds.length;
    this.producerIds.push(id);
    const options: KafkaProducerOptions = { ...setup, bootstrap: setup.bootstrap ?? this.brokerIds, topics: setup.topics ?? this.topics.map((t) => t.name) };
    this.world.addMachine({ id, name: `producer-${this.producerIds.length}`, factory: (ctx) => new KafkaProducer(ctx, options) }).start();
    return id;
  }

  producer(id = FIRST_PRODUCER_ID): KafkaProducer {
    return this.world.machine(id).process as KafkaProducer;
  }

  broker(id: number): Broker {
    return this.world.machine(id).process as Broker;
  }

  controller(): Controller {
    return this.world.machine(CONTROLLER_ID).process as Controller;
  }

  /** The controller's view of a partition. */
  partitionState(topic = this.topics[0].name, p = 0) {
    return this.controller().image.partitions.get(`${topic}-${p}`);
  }

  leader(topic = this.topics[0].name, p = 0): number {
    return this.partitionState(topic, p)?.leader ?? -1;
  }

  runForMs(ms: number): void {
    this.world.runUntil(this.world.nowUs + Math.round(ms * 1000));
  }

  /** Runs until `done()` holds (checked after every event) or `maxMs` passes; returns whether it held. */
  runUntil(done: () => boolean, maxMs = 60_000): boolean {
    this.world.runUntil({ timeUs: this.world.nowUs + maxMs * 1000, until: done });
    return done();
  }

  /** Runs until every partition of every topic has a leader. */
  awaitLeaders(maxMs = 10_000): void {
    const ok = this.runUntil(() => this.topics.every((t) => Array.from({ length: t.partitions }, (_, p) => this.leader(t.name, p)).every((l) => l > 0)), maxMs);
    if (!ok) throw new Error('no leader for every partition within the time allowed');
  }

  /** Every value in broker `id`'s log of the partition, by offset ([] if the broker is down). */
  logValues(id: number, topic = this.topics[0].name, p = 0): string[] {
    const part = this.broker(id)?.replicaManager.partition(`${topic}-${p}`);
    if (part === undefined) return [];
    return part.log.batchesFrom(part.log.logStartOffset).flatMap((b) => b.records.map((r) => r.value));
  }

  /** The batches in broker `id`'s log, as lists of values. */
  logBatches(id: number, topic = this.topics[0].name, p = 0): string[][] {
    const part = this.broker(id)?.replicaManager.partition(`${topic}-${p}`);
    if (part === undefined) return [];
    return part.log.batchesFrom(part.log.logStartOffset).map((b) => b.records.map((r) => r.value));
  }

  /** The committed part of the current leader's log (below its high watermark). */
  committedValues(topic = this.topics[0].name, p = 0): string[] {
    const leader = this.leader(topic, p);
    if (leader <= 0) return [];
    const part = this.broker(leader)?.replicaManager.partition(`${topic}-${p}`);
    if (part === undefined) return [];
    return this.logValues(leader, topic, p).slice(0, part.log.highWatermark - part.log.logStartOffset);
  }

  /** The `send` history entries a producer recorded, in order. */
  sendHistory(producerId = FIRST_PRODUCER_ID): HistoryEntry[] {
    return this.world.history.filter((h) => h.node === producerId && h.entry.type === 'send').map((h) => h.entry);
  }
}
