import { it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.js';
import { World } from '../../src/world/world.js';
it('dbg', async () => {
  const { simulateKafka } = await import('../../src/scenario/kafka-simulation.js');
  const orig = World.prototype.runUntil;
  let w: World | undefined;
  World.prototype.runUntil = function (this: World, l) { w = this; return orig.call(this, l); };
  simulateKafka(loadScenario('/tmp/sc/acks1.yaml'));
  for (const h of w!.history) if (!['high-watermark','follower-append','leader-append','send'].includes(h.entry.type as string) && !(h.entry.type as string).startsWith('raft') && !(h.entry.type as string).startsWith('metadata')) console.log((h.timeUs/1000).toFixed(1), h.node, JSON.stringify(h.entry).slice(0, 180));
  const sends = w!.history.filter(h => h.entry.type === 'send');
  const phases = new Map(); for (const h of sends) phases.set(h.entry.phase, (phases.get(h.entry.phase) ?? 0) + 1);
  console.log([...phases]);
  console.log(sends.filter(h => h.entry.phase !== 'invoke' && h.entry.phase !== 'ok').slice(0, 3).map(h => JSON.stringify(h.entry)));
});
