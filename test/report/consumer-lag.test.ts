import { describe, expect, it } from 'vitest';
import { consumerLagSeries } from '../../src/scenario/run-recorder.js';
import type { RecordedEntry } from '../../src/world/world.js';

const at = (s: number, node: number, entry: RecordedEntry['entry']): RecordedEntry => ({ timeUs: s * 1e6, node, entry });

describe('consumer lag series', () => {
  it('is the high watermark minus the committed offset, summed over the group\'s partitions, sampled per bucket', () => {
    const h: RecordedEntry[] = [
      at(0, 7000, { type: 'subscribe', group: 'g', topics: ['t'] }),
      at(1, 1, { type: 'high-watermark', partition: 't-0', hw: 10 }),
      at(1, 2, { type: 'high-watermark', partition: 't-1', hw: 5 }),
      at(1, 3, { type: 'high-watermark', partition: 'other-0', hw: 99 }),
      at(3, 1, { type: 'offset-commit', groupId: 'g', topic: 't', partition: 0, offset: 8 }),
      at(3, 1, { type: 'offset-commit', groupId: 'g', topic: 't', partition: 1, offset: 5 }),
    ];
    const lag = consumerLagSeries(h, 4e6)!;
    expect(lag.map((g) => g.group)).toEqual(['g']);
    const byS = new Map(lag[0].points.map((p) => [p.atUs / 1e6, p.lag]));
    expect(byS.get(2)).toBe(15);
    expect(byS.get(4)).toBe(2);
  });

  it('is undefined without consumer groups', () => {
    expect(consumerLagSeries([at(1, 1, { type: 'high-watermark', partition: 't-0', hw: 10 })], 2e6)).toBeUndefined();
  });
});
