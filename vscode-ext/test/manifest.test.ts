// What package.json contributes besides code: the problem matcher for `dlm check`
// (its regexp run on real output, test/fixtures/dlm-check-output.txt), the snippets,
// the `.dlm` editor defaults, and the files the manifest names, each present and
// packaged (.vscodeignore).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(__dirname, '..', '..');

interface ProblemMatcher {
  name: string;
  owner: string;
  fileLocation: unknown;
  pattern: { regexp: string; file: number; line: number; column: number; severity: number; code: number; message: number };
}

interface Snippet {
  prefix: string | string[];
  body: string[];
  description: string;
}

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  icon: string;
  main: string;
  repository: { url: string; directory: string };
  bugs: { url: string };
  homepage: string;
  scripts: Record<string, string>;
  contributes: {
    languages: Array<{ id: string; icon: { light: string; dark: string }; configuration: string }>;
    grammars: Array<{ path: string }>;
    snippets: Array<{ language: string; path: string }>;
    configurationDefaults: Record<string, Record<string, unknown>>;
    problemMatchers: ProblemMatcher[];
  };
};

const matcher = manifest.contributes.problemMatchers.find((each) => each.name === 'dlm');

/** What the matcher takes from one line, as VS Code reads the groups; undefined when it does not match. */
function matchLine(line: string): { file: string; line: number; column: number; severity: string; code: string; message: string } | undefined {
  assert.ok(matcher !== undefined);
  const { pattern } = matcher;
  const found = new RegExp(pattern.regexp).exec(line);
  if (found === null) {
    return undefined;
  }
  return {
    file: found[pattern.file] ?? '',
    line: Number(found[pattern.line]),
    column: Number(found[pattern.column]),
    severity: found[pattern.severity] ?? '',
    code: found[pattern.code] ?? '',
    message: found[pattern.message] ?? '',
  };
}

describe('the problem matcher for dlm check', () => {
  // `dlm check /tmp/dlmchk/bad.dlm notes.dlm`, run in /tmp/dlmchk: an absolute and a relative path.
  const output = readFileSync(join(root, 'test', 'fixtures', 'dlm-check-output.txt'), 'utf8').split('\n');

  it('matches every diagnostic line of real output, and only those', () => {
    const heads = output.filter((line) => /^\S.*:\d+:\d+: /.test(line));
    const matched = output.map(matchLine).filter((each) => each !== undefined);
    assert.equal(heads.length, 10);
    assert.equal(matched.length, heads.length, 'the source lines, carets and the summary are not problems');
    assert.deepEqual(matched[0], {
      file: '/tmp/dlmchk/bad.dlm',
      line: 1,
      column: 1,
      severity: 'error',
      code: 'DLM014',
      message: "The frontmatter needs `dlm_id`: The document's identity: a 26-character ULID minted by `dlm init`; names its store.",
    });
    assert.deepEqual(matched[5], {
      file: 'notes.dlm',
      line: 7,
      column: 1,
      severity: 'warning',
      code: 'DLM033',
      message: 'This line looks like a fence but is read as text: a fence is exactly `::prose::` alone on its line, with no spaces.',
    });
    assert.deepEqual(
      matched.map((each) => `${each.file}:${each.line} ${each.severity} ${each.code}`),
      [
        '/tmp/dlmchk/bad.dlm:1 error DLM014',
        '/tmp/dlmchk/bad.dlm:3 error DLM015',
        '/tmp/dlmchk/bad.dlm:9 error DLM044',
        '/tmp/dlmchk/bad.dlm:11 error DLM030',
        'notes.dlm:4 error DLM015',
        'notes.dlm:7 warning DLM033',
        'notes.dlm:11 error DLM041',
        'notes.dlm:11 warning DLM045',
        'notes.dlm:14 error DLM044',
        'notes.dlm:16 error DLM030',
      ],
    );
  });

  it('reads Windows paths, paths with spaces and colons in the message', () => {
    assert.deepEqual(matchLine('C:\\Users\\me\\my notes.dlm:12:3: info DLM099 A note: with a colon.'), {
      file: 'C:\\Users\\me\\my notes.dlm',
      line: 12,
      column: 3,
      severity: 'info',
      code: 'DLM099',
      message: 'A note: with a colon.',
    });
  });

  it('keeps its problems apart from the language server’s, with paths absolute or relative to the folder', () => {
    assert.ok(matcher !== undefined);
    // vscode-languageclient's diagnostics are owned by the client id, 'dlm'; a task with the same owner would replace them.
    assert.notEqual(matcher.owner, 'dlm');
    assert.deepEqual(matcher.fileLocation, ['autoDetect', '${workspaceFolder}']);
  });
});

describe('the snippets', () => {
  const file = manifest.contributes.snippets.find((each) => each.language === 'dlm');
  assert.ok(file !== undefined, 'snippets for dlm');
  const snippets = JSON.parse(readFileSync(join(root, file.path), 'utf8')) as Record<string, Snippet>;
  /** The text a snippet inserts when every field keeps its default. */
  const inserted = (prefix: string): string[] => {
    const snippet = Object.values(snippets).find((each) => each.prefix === prefix);
    assert.ok(snippet !== undefined, `a snippet with the prefix ${prefix}`);
    return snippet.body.map((line) => line.replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\d+/g, ''));
  };
  const headers = (lines: string[]): string[] => lines.filter((line) => line.startsWith('::') || line.startsWith('### '));

  it('writes each section type with its headers in order, every field filled', () => {
    assert.deepEqual(headers(inserted('prose')), ['::prose::']);
    assert.deepEqual(headers(inserted('instruction')), ['::instruction::', '### Q', '### A']);
    assert.deepEqual(headers(inserted('preference')), ['::preference::', '### Prompt', '### Chosen', '### Rejected']);
    assert.deepEqual(headers(inserted('qa')), ['### Q', '### A']);
    assert.deepEqual(headers(inserted('triple')), ['### Prompt', '### Chosen', '### Rejected']);
    for (const prefix of ['instruction', 'preference', 'qa', 'triple']) {
      const lines = inserted(prefix);
      lines.forEach((line, index) => {
        if (line.startsWith('### ')) {
          assert.notEqual((lines[index + 1] ?? '').trim(), '', `${prefix}: ${line} has text under it`);
        }
      });
    }
  });

  it('are offered by word, so they do not crowd the server’s fence completion after `::`', () => {
    for (const snippet of Object.values(snippets)) {
      for (const prefix of [snippet.prefix].flat()) {
        assert.match(prefix, /^\w+$/);
      }
    }
  });
});

describe('the manifest', () => {
  it('sets editor defaults for .dlm files', () => {
    const defaults = manifest.contributes.configurationDefaults['[dlm]'];
    assert.equal(defaults?.['editor.wordWrap'], 'on');
    assert.equal(defaults?.['diffEditor.ignoreTrimWhitespace'], false);
  });

  it('names its repository, so packaging needs no --allow-missing-repository', () => {
    assert.match(manifest.repository.url, /^https:\/\/github\.com\/[^/]+\/[^/]+\.git$/);
    assert.equal(manifest.repository.directory, 'vscode-ext');
    assert.match(manifest.bugs.url, /^https:\/\//);
    assert.match(manifest.homepage, /^https:\/\//);
    assert.doesNotMatch(manifest.scripts['package'] ?? '', /allow-missing-repository/);
  });

  it('packages every file it names, and they exist', () => {
    const packaged = new Set(
      readFileSync(join(root, '.vscodeignore'), 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('!'))
        .map((line) => line.slice(1).trim()),
    );
    const language = manifest.contributes.languages[0];
    assert.ok(language !== undefined);
    const named = [
      manifest.icon,
      language.icon.light,
      language.icon.dark,
      language.configuration,
      ...manifest.contributes.grammars.map((each) => each.path),
      ...manifest.contributes.snippets.map((each) => each.path),
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
    ].map((path) => path.replace(/^\.\//, ''));
    for (const path of named) {
      assert.ok(packaged.has(path), `${path} is left out of the .vsix`);
      assert.ok(existsSync(join(root, path)), `${path} does not exist`);
    }
    assert.ok(packaged.has(manifest.main.replace(/^\.\//, '')), 'the bundle is packaged');
    assert.match(manifest.icon, /\.png$/, 'the Marketplace takes a PNG icon, not an SVG');
  });
});
