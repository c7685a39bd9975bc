import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

function cli(...args: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(args, (t) => void out.push(t), (t) => void err.push(t));
  return { code, out, err };
}

describe('kafkaesque describe', () => {
  it('prints partitions as kafka-topics.sh --describe does, and the quorum', () => {
    const r = cli('describe', 'scenarios/quickstart.yaml', '--at', '12s');
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toContain('Topic: orders\tPartitionCount: 3\tReplicationFactor: 3');
    expect(text).toMatch(/\tTopic: orders\tPartition: 0\tLeader: \d\tReplicas: \d,\d,\d\tIsr: \d,\d,\d/);
    expect(text).toMatch(/Quorum: LeaderId: 3000\tLeaderEpoch: 1/);
  });

  it('shows the leader change once the isolated leader of orders-0 is fenced', () => {
    const before = JSON.parse(cli('describe', 'scenarios/quickstart.yaml', '--at', '12s', '--json').out.join(''));
    const after = JSON.parse(cli('describe', 'scenarios/quickstart.yaml', '--at', '22s', '--json').out.join(''));
    const p0 = (d: { topics: { partitions: { partition: number; leader: number; leaderEpoch: number; isr: number[] }[] }[] }) => d.topics[0].partitions[0];
    expect(p0(after).leader).not.toBe(p0(before).leader);
    expect(p0(after).leaderEpoch).toBe(p0(before).leaderEpoch + 1);
    expect(p0(after).isr).not.toContain(p0(before).leader);
    const fenced = after.brokers.find((b: { id: number }) => b.id === p0(before).leader);
    expect(fenced.fenced).toBe(true);
  });

  it('exits 2 on a scenario without topics and on a bad --at', () => {
    expect(cli('describe', 'scenarios/page-cache-power-loss.yaml').code).toBe(2);
    const bad = cli('describe', 'scenarios/quickstart.yaml', '--at', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.err.join('\n')).toMatch(/expected a positive duration/);
  });
});

describe('kafkaesque list and explain', () => {
  it('lists every scenario of the catalogue, one line each, with what it expects', () => {
    const r = cli('list');
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(readdirSync('scenarios').filter((f) => /\.(ya?ml|json)$/.test(f)).length);
    expect(r.out.join('\n')).toMatch(/quickstart\s+expect: lost-write, inconsistent-offsets\s+Three brokers and a KRaft controller/);
    expect(r.out.join('\n')).toMatch(/acks-all-leader-failover\s+expect: none/);
  });

  it('explains a check and names the scenarios that show it', () => {
    const r = cli('explain', 'lost-write');
    expect(r.code).toBe(0);
    expect(r.out[0]).toContain('lost-write (history)');
    expect(r.out.join('\n')).toContain('Expected, not a bug, when: acks=0 or acks=1');
    const shownBy = r.out.find((line) => line.startsWith('Shown by: ')) ?? '';
    expect(shownBy.split(', ')).toEqual(expect.arrayContaining(['scenarios/quickstart.yaml']));
  });

  it('refuses an unknown check with a suggestion, exit 2', () => {
    const r = cli('explain', 'log-matchin');
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toContain('did you mean log-matching?');
  });
});
