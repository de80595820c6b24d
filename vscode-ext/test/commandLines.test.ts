import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';

import { cliPrefix, commandLine, metricsArgv, quoteArgument, shellKind, trainArgv } from '../src/commandLines';

const AWKWARD = [
  'notes.dlm',
  '/home/me/my notes/field notes.dlm',
  "it's.dlm",
  'a"b.dlm',
  '$HOME/x.dlm',
  '`id`.dlm',
  'semi;colon & amp | pipe.dlm',
  '*.dlm',
  '~/notes.dlm',
  '=cmd',
  '%1',
  'tab\there',
  'new\nline',
  'back\\slash',
  '',
  'ünïcödé 文书.dlm',
  '-n',
];

describe('shellKind', () => {
  it('recognises shells by executable name', () => {
    assert.equal(shellKind('/bin/bash', 'linux'), 'posix');
    assert.equal(shellKind('/usr/bin/zsh', 'darwin'), 'posix');
    assert.equal(shellKind('/usr/local/bin/fish', 'darwin'), 'fish');
    assert.equal(shellKind('C:\\Program Files\\PowerShell\\7\\pwsh.exe', 'win32'), 'powershell');
    assert.equal(shellKind('C:\\WINDOWS\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', 'win32'), 'powershell');
    assert.equal(shellKind('C:\\WINDOWS\\System32\\cmd.exe', 'win32'), 'cmd');
    assert.equal(shellKind('C:\\Program Files\\Git\\bin\\bash.exe', 'win32'), 'posix');
  });

  it('falls back to the platform default when the shell is unknown', () => {
    assert.equal(shellKind(undefined, 'linux'), 'posix');
    assert.equal(shellKind('', 'win32'), 'powershell');
  });
});

describe('quoteArgument', () => {
  it('leaves plain words bare', () => {
    for (const shell of ['posix', 'fish', 'powershell', 'cmd'] as const) {
      assert.equal(quoteArgument('/home/me/notes.dlm', shell), '/home/me/notes.dlm');
      assert.equal(quoteArgument('train', shell), 'train');
    }
  });

  it('quotes for POSIX shells with the close-escape-reopen idiom', () => {
    assert.equal(quoteArgument("it's here", 'posix'), "'it'\\''s here'");
    assert.equal(quoteArgument('', 'posix'), "''");
    assert.equal(quoteArgument('=x', 'posix'), "'=x'");
  });

  it('escapes backslashes and quotes inside fish single quotes', () => {
    assert.equal(quoteArgument("a\\b 'c'", 'fish'), "'a\\\\b \\'c\\''");
  });

  it('doubles single quotes (typographic ones too) for PowerShell', () => {
    assert.equal(quoteArgument("C:\\My Notes\\it's.dlm", 'powershell'), "'C:\\My Notes\\it''s.dlm'");
    assert.equal(quoteArgument('it\u2019s', 'powershell'), "'it\u2019\u2019s'");
    assert.equal(quoteArgument('$env:HOME', 'powershell'), "'$env:HOME'");
  });

  it('uses double quotes for cmd', () => {
    assert.equal(quoteArgument('C:\\My Notes\\a&b.dlm', 'cmd'), '"C:\\My Notes\\a&b.dlm"');
  });
});

describe('commandLine', () => {
  it('joins quoted words', () => {
    assert.equal(commandLine(['dlm', 'train', '/w/my notes.dlm'], 'posix'), "dlm train '/w/my notes.dlm'");
    assert.equal(commandLine(['dlm', 'metrics', 'C:\\w\\my notes.dlm'], 'cmd'), 'dlm metrics "C:\\w\\my notes.dlm"');
  });

  it('calls a quoted program with & in PowerShell and keeps options bare', () => {
    assert.equal(
      commandLine(['C:\\Program Files\\uv\\uv.exe', 'run', 'dlm', 'train', '--max-steps', 'C:\\n.dlm'], 'powershell'),
      "& 'C:\\Program Files\\uv\\uv.exe' run dlm train --max-steps C:\\n.dlm",
    );
    assert.equal(commandLine(['dlm', 'train', 'x y.dlm'], 'powershell'), "dlm train 'x y.dlm'");
  });

  for (const shell of ['/usr/bin/sh', '/usr/bin/bash', '/usr/bin/dash', '/bin/zsh']) {
    it(`round-trips awkward arguments through ${shell}`, { skip: existsSync(shell) ? false : `${shell} is not installed` }, () => {
      const line = commandLine(['printf', '%s\\0', ...AWKWARD], 'posix');
      const result = spawnSync(shell, ['-c', line], { encoding: 'utf8', env: { HOME: '/nowhere', PATH: process.env['PATH'] ?? '' } });
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(result.stdout.split('\0').slice(0, -1), AWKWARD);
    });
  }
});

describe('cliPrefix', () => {
  it('drops the last lsp and what follows it', () => {
    assert.deepEqual(cliPrefix({ command: '/usr/bin/uv', args: ['run', 'dlm', 'lsp'] }), ['/usr/bin/uv', 'run', 'dlm']);
    assert.deepEqual(cliPrefix({ command: '/venv/bin/python', args: ['-m', 'dlm', 'lsp', '--log', 'x'] }), ['/venv/bin/python', '-m', 'dlm']);
    assert.deepEqual(cliPrefix({ command: '/home/me/.local/bin/dlm', args: ['lsp'] }), ['/home/me/.local/bin/dlm']);
  });

  it('falls back to plain dlm when the server command has no lsp word', () => {
    assert.deepEqual(cliPrefix({ command: 'my-dlm-server', args: [] }), ['dlm']);
    assert.deepEqual(cliPrefix({ command: 'lsp', args: [] }), ['dlm']);
    assert.deepEqual(cliPrefix(undefined), ['dlm']);
  });
});

describe('trainArgv and metricsArgv', () => {
  it('put the verb and the document after the prefix', () => {
    assert.deepEqual(trainArgv(['uv', 'run', 'dlm'], '/w/n.dlm'), ['uv', 'run', 'dlm', 'train', '/w/n.dlm']);
    assert.deepEqual(metricsArgv(['dlm'], '/w/n.dlm'), ['dlm', 'metrics', '/w/n.dlm']);
    assert.equal(commandLine(trainArgv(['dlm'], '/w/my notes.dlm'), 'posix'), "dlm train '/w/my notes.dlm'");
  });
});
