import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { END, START, TOUR, tourCoverage, tourSection, withTour } from '../../scripts/tour.mjs';

/** The README's "Tour of failures" is generated from scenarios/ by `npm run tour` (scripts/tour.mjs). */
describe("the README's tour of failures", () => {
  it('names every scenario file exactly once, and no file that does not exist', () => {
    expect(tourCoverage('.')).toEqual({ missing: [], unknown: [], duplicated: [] });
  });

  it('is up to date with the scenario files (run npm run tour)', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme.split(START).length, 'one start marker').toBe(2);
    expect(readme.split(END).length, 'one end marker').toBe(2);
    expect(withTour(readme, tourSection('.'))).toBe(readme);
  });

  it('gives each scenario its description, its command, and its example report where one is committed', () => {
    const section = tourSection('.');
    for (const [, names] of TOUR) {
      for (const name of names) {
        expect(section).toContain(`npx kafkaesque run scenarios/${name}.yaml --report reports/${name}`);
        expect(section).toContain(`**\`${name}\`**: `);
      }
    }
    for (const name of ['jepsen-2013-min-isr-1', 'kip101-follower-truncation', 'kip279-fast-leader-changes', 'power-loss-no-fsync']) {
      expect(section).toContain(`[reports/examples/${name}/index.html](reports/examples/${name}/index.html)`);
    }
  });

  it('notices a stale README', () => {
    const readme = readFileSync('README.md', 'utf8');
    const stale = readme.replace('**`quickstart`**: ', '**`quickstart`**: Once upon a time, ');
    expect(withTour(stale, tourSection('.'))).not.toBe(stale);
  });
});
