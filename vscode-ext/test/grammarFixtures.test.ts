// Checks on the grammar tests themselves (test/grammar/*.dlm, run by
// vscode-tmgrammar-test): every scope the grammar can produce is required by at
// least one assertion, and every assertion is in a form the tool parses (a
// malformed one makes the tool backtrack for minutes instead of failing).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(__dirname, '..', '..');
const grammar: unknown = JSON.parse(readFileSync(join(root, 'syntaxes', 'dlm.tmLanguage.json'), 'utf8'));
const fixtureDir = join(root, 'test', 'grammar');
const fixtures = readdirSync(fixtureDir)
  .filter((name) => name.endsWith('.dlm'))
  .map((name) => ({ name, text: readFileSync(join(fixtureDir, name), 'utf8') }));

/** Every scope named by a `name` or `contentName` anywhere in the grammar. */
function grammarScopes(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    node.forEach((child) => grammarScopes(child, found));
  } else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'name' || key === 'contentName') && typeof value === 'string') {
        value.split(/\s+/).forEach((scope) => found.add(scope));
      } else {
        grammarScopes(value, found);
      }
    }
  }
  return found;
}

const ASSERTION = /^<!--\s*(\^+|<~*-+)\s*(.*)$/;
const SCOPE_LIST = /^[\w][-\w.]*(?:\s+[\w][-\w.]*)*$/;

describe('grammar fixtures', () => {
  it('has a fixture per construct', () => {
    const names = fixtures.map((fixture) => fixture.name.replace(/\.dlm$/, ''));
    for (const construct of ['frontmatter', 'fences', 'fence-like', 'instruction', 'preference', 'prose', 'marker', 'marker-malformed', 'code-blocks', 'escapes', 'comments']) {
      assert.ok(names.includes(construct), `no test/grammar/${construct}.dlm`);
    }
  });

  it('starts every fixture with the tool header for source.dlm', () => {
    for (const { name, text } of fixtures) {
      assert.match(text.split('\n')[0] ?? '', /^<!-- SYNTAX TEST "source\.dlm" "[^"]+"$/, name);
    }
  });

  it('writes each assertion as required scopes, then at most one "-" and the excluded ones', () => {
    for (const { name, text } of fixtures) {
      text.split('\n').forEach((line, index) => {
        const match = ASSERTION.exec(line);
        if (match === null) {
          return;
        }
        const [required = '', ...rest] = (match[2] ?? '').split(/\s+-\s+/);
        assert.ok(rest.length <= 1, `${name}:${index + 1}: more than one " - " (list the excluded scopes after a single "-")`);
        for (const list of [required, ...rest]) {
          assert.match(list.trim(), SCOPE_LIST, `${name}:${index + 1}: not a scope list: ${JSON.stringify(list)}`);
        }
      });
    }
  });

  it('requires every scope of the grammar in at least one assertion', () => {
    const required = new Set<string>();
    for (const { text } of fixtures) {
      for (const line of text.split('\n')) {
        const match = ASSERTION.exec(line);
        const scopes = (match?.[2] ?? '').split(/\s+-\s+/)[0] ?? '';
        scopes.split(/\s+/).forEach((scope) => scope && required.add(scope));
      }
    }
    const rules = grammar as { patterns: unknown; repository: unknown };
    const untested = [...grammarScopes([rules.patterns, rules.repository])].filter((scope) => !required.has(scope)).sort();
    assert.deepEqual(untested, [], 'scopes no grammar test requires');
  });

  it('embeds YAML in the frontmatter and maps it to the yaml language', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      contributes: { grammars: Array<{ scopeName: string; path: string; embeddedLanguages?: Record<string, string> }> };
    };
    const entry = manifest.contributes.grammars.find((each) => each.scopeName === 'source.dlm');
    assert.equal(entry?.path, './syntaxes/dlm.tmLanguage.json');
    assert.deepEqual(entry?.embeddedLanguages, { 'meta.embedded.block.frontmatter': 'yaml' });
    assert.match(JSON.stringify(grammar), /"include":"source\.yaml"/);
  });
});
