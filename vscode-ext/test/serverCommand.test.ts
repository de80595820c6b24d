import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  describeServerCommand,
  discoverServerCommand,
  parseCommandSetting,
  splitCommandLine,
  type DiscoveryInput,
} from '../src/serverCommand';

const DLM_PROJECT = '[project]\nname = "dlm-toolkit"\n';
const USES_DLM = '[project]\nname = "notes"\ndependencies = ["dlm-toolkit"]\n';
const OTHER = '[project]\nname = "other"\n';

function input(overrides: Partial<DiscoveryInput> & { onPath?: Record<string, string> }): DiscoveryInput {
  const onPath = overrides.onPath ?? {};
  return {
    configured: overrides.configured ?? [],
    findExecutable: overrides.findExecutable ?? ((name) => onPath[name]),
    folders: overrides.folders ?? [],
    trusted: overrides.trusted ?? true,
  };
}

describe('parseCommandSetting', () => {
  it('treats unset, empty list, empty and blank strings as automatic', () => {
    for (const value of [undefined, null, [], '', '   ', ['', ' ']]) {
      assert.deepEqual(parseCommandSetting(value), { kind: 'auto' }, JSON.stringify(value));
    }
  });

  it('takes a list of strings as the argument vector', () => {
    assert.deepEqual(parseCommandSetting(['uv', 'run', 'dlm', 'lsp']), { kind: 'argv', argv: ['uv', 'run', 'dlm', 'lsp'] });
  });

  it('splits a string like a shell line', () => {
    assert.deepEqual(parseCommandSetting('"/opt/my tools/dlm" lsp'), { kind: 'argv', argv: ['/opt/my tools/dlm', 'lsp'] });
  });

  it('explains a wrong type or an unterminated quote', () => {
    const wrong = parseCommandSetting(['dlm', 3]);
    assert.equal(wrong.kind, 'error');
    assert.match(wrong.kind === 'error' ? wrong.message : '', /must be a list of strings/);
    const number = parseCommandSetting(42);
    assert.equal(number.kind, 'error');
    const quote = parseCommandSetting('dlm "lsp');
    assert.equal(quote.kind, 'error');
    assert.match(quote.kind === 'error' ? quote.message : '', /double quote is not closed/);
  });

  it('refuses an empty program name', () => {
    assert.equal(parseCommandSetting(['', 'lsp']).kind, 'error');
  });
});

describe('splitCommandLine', () => {
  it('handles plain words, both quotes, escapes and runs of blanks', () => {
    assert.deepEqual(splitCommandLine('  uv   run\tdlm lsp '), ['uv', 'run', 'dlm', 'lsp']);
    assert.deepEqual(splitCommandLine(`a 'b c' "d \\"e\\" \\x" f\\ g`), ['a', 'b c', 'd "e" \\x', 'f g']);
    assert.deepEqual(splitCommandLine(`x'y'"z" ''`), ['xyz', '']);
    assert.equal(splitCommandLine("it's"), 'a single quote is not closed');
  });
});

describe('discoverServerCommand', () => {
  it('uses the setting first, run in the first workspace folder', () => {
    const result = discoverServerCommand(
      input({ configured: ['python', '-m', 'dlm', 'lsp'], onPath: { dlm: '/usr/bin/dlm' }, folders: [{ path: '/ws' }] }),
    );
    assert.deepEqual(result, { ok: true, server: { command: 'python', args: ['-m', 'dlm', 'lsp'], cwd: '/ws', source: 'setting' } });
  });

  it('reports a malformed setting instead of falling back silently', () => {
    const result = discoverServerCommand(input({ configured: { command: 'dlm' }, onPath: { dlm: '/usr/bin/dlm' } }));
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /dlm\.server\.command/);
  });

  it('uses dlm from PATH when the setting is empty', () => {
    const result = discoverServerCommand(input({ onPath: { dlm: '/home/me/.local/bin/dlm', uv: '/usr/bin/uv' }, folders: [{ path: '/ws', pyproject: DLM_PROJECT }] }));
    assert.deepEqual(result, { ok: true, server: { command: '/home/me/.local/bin/dlm', args: ['lsp'], cwd: '/ws', source: 'path' } });
  });

  it('runs uv run dlm lsp in the folder that is the dlm project or depends on it', () => {
    const folders = [{ path: '/a', pyproject: OTHER }, { path: '/b' }, { path: '/c', pyproject: USES_DLM }, { path: '/d', pyproject: DLM_PROJECT }];
    const result = discoverServerCommand(input({ onPath: { uv: '/usr/bin/uv' }, folders }));
    assert.deepEqual(result, { ok: true, server: { command: '/usr/bin/uv', args: ['run', 'dlm', 'lsp'], cwd: '/c', source: 'uv' } });
  });

  it("runs the project's synced .venv dlm instead of uv run, so no start re-syncs", () => {
    const folders = [{ path: '/c', pyproject: DLM_PROJECT, venvDlm: '/c/.venv/bin/dlm' }];
    const result = discoverServerCommand(input({ onPath: { uv: '/usr/bin/uv' }, folders }));
    assert.deepEqual(result, { ok: true, server: { command: '/c/.venv/bin/dlm', args: ['lsp'], cwd: '/c', source: 'venv' } });
    const untrusted = discoverServerCommand(input({ onPath: { uv: '/usr/bin/uv' }, folders, trusted: false }));
    assert.equal(untrusted.ok, false);
  });

  it('does not use uv run for a project unrelated to dlm', () => {
    const result = discoverServerCommand(input({ onPath: { uv: '/usr/bin/uv' }, folders: [{ path: '/a', pyproject: OTHER }] }));
    assert.equal(result.ok, false);
    const message = result.ok ? '' : result.message;
    assert.match(message, /`dlm` is not on PATH/);
    assert.match(message, /dlm\.server\.command/);
    assert.match(message, /Fix:/);
  });

  it('says to install uv when the project qualifies but uv is missing', () => {
    const result = discoverServerCommand(input({ folders: [{ path: '/d', pyproject: DLM_PROJECT }] }));
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /`uv` is not on PATH either.*install uv/s);
  });

  it('does not run uv in an untrusted workspace', () => {
    const result = discoverServerCommand(input({ trusted: false, onPath: { uv: '/usr/bin/uv' }, folders: [{ path: '/d', pyproject: DLM_PROJECT }] }));
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /not trusted.*trust the workspace/s);
  });

  it('gives the full fix when nothing works and there is no folder', () => {
    const result = discoverServerCommand(input({}));
    assert.equal(result.ok, false);
    const message = result.ok ? '' : result.message;
    assert.match(message, /install dlm so that `dlm` is on PATH/);
    assert.match(message, /\["uv", "run", "--project", "\/path\/to\/dlm", "dlm", "lsp"\]/);
  });

  it('looks nothing up on PATH when the setting decides', () => {
    const asked: string[] = [];
    discoverServerCommand(input({ configured: 'dlm lsp', findExecutable: (name) => (asked.push(name), undefined) }));
    assert.deepEqual(asked, []);
  });
});

describe('describeServerCommand', () => {
  it('quotes words with blanks and names the source and folder', () => {
    assert.equal(
      describeServerCommand({ command: '/opt/my tools/uv', args: ['run', 'dlm', 'lsp'], cwd: '/src/dlm', source: 'uv' }),
      '"/opt/my tools/uv" run dlm lsp in /src/dlm (uv run in the dlm project)',
    );
    assert.equal(describeServerCommand({ command: 'dlm', args: ['lsp'], source: 'path' }), 'dlm lsp (dlm found on PATH)');
  });
});
