import { describe, expect, it } from 'vitest';
import { World } from '../../src/world/world.js';
import type { Message, Node, NodeContext, NodeId } from '../../src/world/node.js';

/**
 * TCP resets (RST): a process that dies on a machine that stays up has its sockets closed by the
 * kernel, so every peer it had a connection with learns of it one latency later; a message sent
 * to a machine where no process listens is answered with a reset. A power loss sends nothing,
 * and a partition drops resets like any other packet.
 */
class Peer implements Node {
  static resets: { node: NodeId; peer: NodeId; atUs: number }[] = [];
  constructor(private readonly ctx: NodeContext, private readonly world: () => World) {}
  start(): void {}
  onMessage(): void {}
  onTimer(): void {}
  onConnectionReset(peer: NodeId): void {
    Peer.resets.push({ node: this.ctx.id, peer, atUs: this.world().nowUs });
  }
  send(to: NodeId): void {
    this.ctx.send(to, { type: 'ping' } as Message);
  }
}

function world3(): World {
  Peer.resets = [];
  const world: World = new World({ seed: 1, network: { latency: { distribution: 'constant', ms: 1 } } });
  for (const id of [1, 2, 3]) world.addMachine({ id, factory: (ctx) => new Peer(ctx, () => world) });
  world.startAll();
  return world;
}
const peer = (w: World, id: number) => w.machine(id).process as Peer;

describe('connection resets', () => {
  it('a crashed process resets its connections: each peer it talked to hears of it one latency later; others do not', () => {
    const w = world3();
    peer(w, 1).send(2);
    w.runUntil(5_000);
    w.machine(2).crash();
    w.runUntil(10_000);
    expect(Peer.resets).toEqual([{ node: 1, peer: 2, atUs: 6_000 }]);
  });

  it('a power loss resets nothing: the peers find out only through their timeouts', () => {
    const w = world3();
    peer(w, 1).send(2);
    w.runUntil(5_000);
    w.machine(2).powerOff();
    w.runUntil(10_000);
    expect(Peer.resets).toEqual([]);
  });

  it('a message to a machine with no process is answered with a reset; to a powered-off machine, with nothing', () => {
    const w = world3();
    w.machine(2).crash();
    w.machine(3).powerOff();
    w.runUntil(1_000);
    peer(w, 1).send(2);
    peer(w, 1).send(3);
    w.runUntil(10_000);
    expect(Peer.resets).toEqual([{ node: 1, peer: 2, atUs: 3_000 }]);
  });

  it('a partition drops the reset', () => {
    const w = world3();
    peer(w, 1).send(2);
    w.runUntil(5_000);
    w.network.isolate(1);
    w.machine(2).crash();
    w.runUntil(10_000);
    expect(Peer.resets).toEqual([]);
  });
});
