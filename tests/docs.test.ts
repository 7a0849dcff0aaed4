/**
 * The README and docs/ say only what is so: every relative link reaches a file (and a heading, when
 * it names one), every `npm run X` is a script of package.json, and docs/configuration.md is what
 * `npm run config-doc` makes from the schema and .env.example today.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configReference } from '../src/cli/configDoc.js';
import { REPO } from './support/testModel.js';

const pages = [
  'README.md',
  ...readdirSync(path.join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const read = (file: string) => readFileSync(path.join(REPO, file), 'utf8');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

const anchors = (file: string) =>
  new Set([...read(file).matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchorOf(m[1]!.replace(/`/g, ''))));

/** The text outside fenced code blocks (a link there is an example, not a link). */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, '');

/** The relative links of `text` (the page `page`) that reach no file, or no heading of the file they name. */
function brokenLinks(page: string, text: string): string[] {
  const broken: string[] = [];
  for (const [, target] of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target!)) continue; // https:, mailto:
    const [file, anchor] = target!.split('#') as [string, string | undefined];
    const resolved = file ? path.posix.normalize(path.posix.join(path.posix.dirname(page), file)) : page;
    if (!existsSync(path.join(REPO, resolved))) broken.push(`${page}: ${target} (no ${resolved})`);
    else if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor))
      broken.push(`${page}: ${target} (no heading #${anchor} in ${resolved})`);
  }
  return broken;
}

describe('README and docs/', () => {
  it('every relative link reaches a file, and the heading it names', () => {
    expect(pages.flatMap((page) => brokenLinks(page, read(page)))).toEqual([]);
  });

  it('finds a link to a missing file or heading', () => {
    const text =
      '[a](docs/nowhere.md) [b](docs/architecture.md#no-such-heading) [c](#quick-start) [d](https://example.org/x)\n```\n[e](in/code.md)\n```\n';
    expect(brokenLinks('README.md', text)).toEqual([
      'README.md: docs/nowhere.md (no docs/nowhere.md)',
      'README.md: docs/architecture.md#no-such-heading (no heading #no-such-heading in docs/architecture.md)',
    ]);
  });

  it('every `npm run` command names a script of package.json', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const unknown: string[] = [];
    for (const page of pages) {
      for (const [, name] of read(page).matchAll(/npm run(?: -s)? ([\w:-]+)/g))
        if (!scripts.includes(name!)) unknown.push(`${page}: npm run ${name}`);
    }
    expect(unknown).toEqual([]);
  });

  it('docs/configuration.md is current (npm run config-doc writes it)', () => {
    expect(read('docs/configuration.md')).toBe(configReference(read('.env.example')));
  });

  it('a setting missing from .env.example, or one the schema does not know, is refused', () => {
    const env = read('.env.example');
    expect(() => configReference(env.replace(/^# TOP_K=.*$/m, ''))).toThrow(/not in \.env\.example: TOP_K/);
    expect(() => configReference(env + '\n\n# NOT_A_SETTING=1\n')).toThrow(/unknown to src\/config\.ts: NOT_A_SETTING/);
  });

  it('the README stays short: what Cite is and how to start; the reference lives in docs/', () => {
    expect(read('README.md').split('\n').length).toBeLessThan(150);
  });
});
