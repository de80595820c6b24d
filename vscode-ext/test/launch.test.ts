// launch.ts on a real file system: the folders and executables discovery sees, and
// the process options the server starts with.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { describeError } from '../src/errors';
import { discover, executableOptions, isExecutable, workspaceFolders } from '../src/launch';

const posix = process.platform !== 'win32';

describe('launch', () => {
  let root = '';
  let project = '';
  let plain = '';
  let bin = '';

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'dlm-launch-'));
    project = join(root, 'project');
    plain = join(root, 'plain');
    bin = join(root, 'bin');
    for (const folder of [project, plain, bin]) {
      mkdirSync(folder);
    }
    writeFileSync(join(project, 'pyproject.toml'), '[project]\nname = "notes"\ndependencies = ["dlm-toolkit"]\n');
    writeFileSync(join(bin, 'uv'), '#!/bin/sh\n');
    chmodSync(join(bin, 'uv'), 0o755);
    writeFileSync(join(bin, 'dlm'), 'not executable\n');
    chmodSync(join(bin, 'dlm'), 0o644);
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  const folder = (path: string, scheme = 'file') => ({ uri: { scheme, fsPath: path } });

  it('reads each local folder with its pyproject.toml, skipping remote ones', () => {
    const folders = workspaceFolders([folder(project), folder(plain), folder('/remote', 'vscode-remote')]);
    assert.deepEqual(folders.map((each) => [each.path, each.pyproject !== undefined]), [
      [project, true],
      [plain, false],
    ]);
    assert.match(folders[0]?.pyproject ?? '', /dlm-toolkit/);
    assert.deepEqual(workspaceFolders(undefined), []);
  });

  it('counts only regular files with the execute bit as executable (any file on Windows)', { skip: !posix && 'POSIX file modes' }, () => {
    assert.equal(isExecutable(join(bin, 'uv'), 'linux'), true);
    assert.equal(isExecutable(join(bin, 'dlm'), 'linux'), false);
    assert.equal(isExecutable(join(bin, 'dlm'), 'win32'), true);
    assert.equal(isExecutable(bin, 'linux'), false, 'a directory');
    assert.equal(isExecutable(join(bin, 'missing'), 'linux'), false);
  });

  it('finds `uv run dlm lsp` in the project when dlm is not runnable', { skip: !posix && 'POSIX file modes' }, () => {
    const env = { PATH: [join(root, 'nowhere'), bin].join(delimiter) };
    const found = discover({ configured: [], folders: [folder(plain), folder(project)], trusted: true }, env, 'linux');
    assert.deepEqual(found, { ok: true, server: { command: join(bin, 'uv'), args: ['run', 'dlm', 'lsp'], cwd: project, source: 'uv' } });
    const untrusted = discover({ configured: [], folders: [folder(project)], trusted: false }, env, 'linux');
    assert.equal(untrusted.ok, false);
    const configured = discover({ configured: 'my-dlm lsp', folders: [folder(plain)], trusted: false }, {}, 'linux');
    assert.deepEqual(configured, { ok: true, server: { command: 'my-dlm', args: ['lsp'], cwd: plain, source: 'setting' } });
  });

  it('starts a .cmd or .bat launcher through the shell on Windows only', () => {
    const server = { command: 'C:\\tools\\dlm.CMD', args: ['lsp'], source: 'setting' as const };
    assert.deepEqual(executableOptions(server, 'win32'), { command: server.command, args: ['lsp'], options: { shell: true } });
    assert.deepEqual(executableOptions(server, 'linux').options, { shell: false });
    assert.deepEqual(executableOptions({ command: 'C:\\tools\\dlm.exe', args: ['lsp'], source: 'path' }, 'win32').options, { shell: false });
    assert.deepEqual(executableOptions({ command: 'uv', args: [], cwd: project, source: 'uv' }, 'linux').options, { cwd: project, shell: false });
  });

  it('describes an error by its message, anything else as text', () => {
    assert.equal(describeError(new Error('boom')), 'boom');
    assert.equal(describeError('plain'), 'plain');
    assert.equal(describeError(42), '42');
  });
});
