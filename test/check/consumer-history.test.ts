import { describe, expect, it } from 'vitest';
import { checkDuplicateProcessing, checkLostProcessing, checkPollOrder, checkUnseen, type HistoryItem } from '../../src/check/consumer-history.js';

const at = (ms: number, node: number, entry: HistoryItem['entry']): HistoryItem => ({ timeUs: ms * 1000, node, entry });
const poll = (ms: number, node: number, offsets: number[], partition = 0) =>
  at(ms, node, { type: 'poll', group: 'g', records: offsets.map((offset) => ({ topic: 't', partition, offset, value: `v${partition}:${offset}` })) });
const name = (id: number) => `consumer-${id}`;

describe('nonmonotonic-poll and poll-skip', () => {
  it('consecutive polls that continue one past the last offset are fine, across partitions too', () => {
    expect(checkPollOrder([poll(1, 1, [0, 1, 2]), poll(2, 1, [3, 4]), poll(3, 1, [0], 1), poll(4, 1, [5])], name)).toEqual([]);
  });

  it('reading an offset again is nonmonotonic-poll; jumping ahead is poll-skip', () => {
    const v = checkPollOrder([poll(1, 1, [0, 1, 2]), poll(2, 1, [2, 3]), poll(3, 1, [7])], name);
    expect(v.map((x) => [x.check, x.offset, x.evidence?.previous])).toEqual([
      ['nonmonotonic-poll', 2, 2],
      ['poll-skip', 7, 3],
    ]);
    expect(v[1].message).toBe('consumer-1 read t-0 up to offset 3, then from 7: offsets 4–6 were skipped');
  });

  it('an assignment change or a position reset between polls starts afresh', () => {
    const h = [poll(1, 1, [0, 1, 2]), at(2, 1, { type: 'assignment', partitions: [] }), poll(3, 1, [0, 1]), at(4, 1, { type: 'offset-reset', topic: 't', partition: 0, offset: 9 }), poll(5, 1, [9])];
    expect(checkPollOrder(h, name)).toEqual([]);
  });

  it('each consumer is checked on its own', () => {
    expect(checkPollOrder([poll(1, 1, [0, 1]), poll(2, 2, [0, 1])], name)).toEqual([]);
  });
});

describe('duplicate-processing, lost-processing and unseen', () => {
  const effect = (ms: number, node: number, offset: number, group = 'g') => at(ms, node, { type: 'side-effect', group, topic: 't', partition: 0, offset, value: `v0:${offset}` });
  const commit = (ms: number, offset: number) => at(ms, 1, { type: 'offset-commit', groupId: 'g', topic: 't', partition: 0, offset });
  const log = new Map([['t-0', new Map([0, 1, 2, 3].map((o) => [o, `v0:${o}`]))]]);

  it('counts a record processed twice in one group, not once in each of two groups', () => {
    const v = checkDuplicateProcessing([effect(1, 1, 0), effect(2, 1, 1), effect(3, 2, 1), effect(4, 2, 0, 'other')]);
    expect(v.map((x) => [x.offset, x.evidence?.times, x.evidence?.consumers])).toEqual([[1, 2, [1, 2]]]);
  });

  it('lost-processing: committed past a record no member processed', () => {
    expect(checkLostProcessing([effect(1, 1, 0), effect(2, 1, 1), commit(3, 2)], log)).toEqual([]);
    const v = checkLostProcessing([effect(1, 1, 0), commit(3, 3)], log);
    expect(v.map((x) => [x.check, x.offset, x.evidence?.missing])).toEqual([['lost-processing', 1, 2]]);
  });

  it('unseen: acknowledged, still in the log, at or after where the group started, never polled', () => {
    const send = (offset: number) => at(1, 9, { type: 'send', phase: 'ok', topic: 't', partition: 0, offset, value: `v0:${offset}` });
    const h = [send(0), send(1), send(2), send(3), at(2, 1, { type: 'offset-reset', group: 'g', topic: 't', partition: 0, offset: 1 }), poll(3, 1, [1, 2])];
    const kept = (_p: string, offset: number) => offset !== 2;
    const v = checkUnseen(h, new Map([['g', ['t']]]), kept);
    expect(v.map((x) => [x.check, x.offset, x.evidence?.count])).toEqual([['unseen', 3, 1]]);
    expect(checkUnseen(h, new Map([['g', ['other-topic']]]), kept)).toEqual([]);
  });
});
