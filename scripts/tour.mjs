#!/usr/bin/env node
/**
 * The README's "Tour of failures", generated from the scenario files (issue 10).
 *
 *   npm run tour            rewrites README.md between <!-- tour:start --> and <!-- tour:end -->
 *   npm run tour -- --check exits 1 when README.md is not up to date (test/scenario/tour.test.ts
 *                           checks the same)
 *
 * Plain ESM JavaScript, so it runs without a build; scripts/tour.d.mts types it for the tests.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const START = '<!-- tour:start -->';
export const END = '<!-- tour:end -->';

/**
 * The tour, in order: a heading, then its scenario files (by file name, without `.yaml`). Every
 * file in scenarios/ must appear exactly once (the tour test checks it).
 */
export const TOUR = [
  ['Acknowledgements', ['acks0-fire-and-forget', 'acks-all-leader-crash', 'quickstart', 'acks-all-leader-failover']],
  ['The ISR and min.insync.replicas (Jepsen 2013)', ['jepsen-2013-min-isr-1', 'jepsen-2013-min-isr-2']],
  ['Unclean leader election', ['unclean-leader-election', 'unclean-leader-election-off']],
  ['Truncation by leader epoch (KIP-101)', ['kip101-follower-truncation', 'kip101-follower-truncation-fixed', 'kip101-power-loss-divergence', 'kip101-power-loss-divergence-fixed']],
  ['The epoch end-offset lookup (KIP-279)', ['kip279-fast-leader-changes', 'kip279-fast-leader-changes-fixed']],
  ['fsync and correlated power loss', ['power-loss-no-fsync', 'power-loss-fsync-every-message', 'page-cache-power-loss']],
  ['The last replica standing (KIP-966)', ['kip966-last-replica-standing', 'kip966-last-replica-standing-fixed']],
  ['Producer retries and idempotence', ['producer-retries-no-idempotence', 'producer-retries-idempotent']],
  ['The KRaft quorum', ['controller-quorum-loss']],
];

const oneLine = (text) => String(text ?? '').replace(/\s+/g, ' ').trim();

/** The generated section, markers excluded, for the scenario and report folders under `root`. */
export function tourSection(root = '.') {
  const lines = [
    '## Tour of failures',
    '',
    'Every classic Kafka failure is a scenario in `scenarios/`, most of them in pairs: the unsafe',
    'configuration, which expects the anomaly, and its safe twin, which expects none. `npm test` runs',
    'each one at its own seed and at 20 others (`test/scenario/catalogue.test.ts`), and',
    '`npx kafkaesque list` lists them. Each report shows the timeline, the replica logs and every',
    'finding; the scenario\'s notes (in the report and in the file) say what to look at and why it',
    'happens. This section is generated from the scenario files by `npm run tour`.',
    '',
  ];
  for (const [heading, names] of TOUR) {
    lines.push(`### ${heading}`, '');
    for (const name of names) {
      const file = `scenarios/${name}.yaml`;
      const doc = parse(readFileSync(join(root, file), 'utf8'));
      const expects = (doc.expect ?? []).length ? doc.expect.map((c) => `\`${c}\``).join(', ') : 'no finding';
      lines.push(`**\`${name}\`**: ${oneLine(doc.description)}`, '');
      lines.push(`Expects: ${expects}.`);
      const example = `reports/examples/${name}/index.html`;
      if (existsSync(join(root, example))) lines.push(`Example report: [${example}](${example}).`);
      lines.push('', '```sh', `npx kafkaesque run ${file} --report reports/${name}`, '```', '');
    }
  }
  return lines.join('\n').replace(/\n+$/, '\n');
}

/** The scenario files the tour does not mention, and the tour entries with no file. */
export function tourCoverage(root = '.') {
  const files = readdirSync(join(root, 'scenarios')).filter((f) => /\.ya?ml$/.test(f)).map((f) => f.replace(/\.ya?ml$/, ''));
  const listed = TOUR.flatMap(([, names]) => names);
  return { missing: files.filter((f) => !listed.includes(f)).sort(), unknown: listed.filter((n) => !files.includes(n)), duplicated: listed.filter((n, i) => listed.indexOf(n) !== i) };
}

/** README text with the section between the markers replaced by `section`. */
export function withTour(readme, section) {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${START} … ${END} markers`);
  return `${readme.slice(0, a + START.length)}\n${section}${readme.slice(b)}`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const readme = readFileSync('README.md', 'utf8');
  const next = withTour(readme, tourSection('.'));
  const { missing, unknown } = tourCoverage('.');
  if (missing.length || unknown.length) {
    console.error(`tour: scenarios not in the tour: ${missing.join(', ') || 'none'}; tour entries with no file: ${unknown.join(', ') || 'none'} (edit TOUR in scripts/tour.mjs)`);
    process.exit(1);
  }
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      console.error('tour: README.md is out of date; run npm run tour');
      process.exit(1);
    }
  } else if (next !== readme) {
    writeFileSync('README.md', next);
    console.log('tour: README.md updated');
  } else console.log('tour: README.md is up to date');
}
