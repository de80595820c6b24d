import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { findOnPath } from '../src/which';

const files = (...paths: string[]) => {
  const set = new Set(paths);
  return (candidate: string) => set.has(candidate);
};

describe('findOnPath', () => {
  it('returns the first executable along a POSIX PATH', () => {
    const found = findOnPath('dlm', {
      path: '/usr/bin:/home/me/.local/bin:/opt/dlm/bin',
      platform: 'linux',
      isExecutable: files('/home/me/.local/bin/dlm', '/opt/dlm/bin/dlm'),
    });
    assert.equal(found, '/home/me/.local/bin/dlm');
  });

  it('returns undefined when no directory has it, or PATH is unset or empty', () => {
    assert.equal(findOnPath('dlm', { path: '/usr/bin:/bin', platform: 'linux', isExecutable: files() }), undefined);
    assert.equal(findOnPath('dlm', { path: undefined, platform: 'linux', isExecutable: files('/dlm') }), undefined);
    assert.equal(findOnPath('dlm', { path: '', platform: 'darwin', isExecutable: files('dlm') }), undefined);
  });

  it('skips empty PATH entries and handles trailing slashes', () => {
    const found = findOnPath('uv', { path: '::/opt/bin/:', platform: 'darwin', isExecutable: files('/opt/bin/uv') });
    assert.equal(found, '/opt/bin/uv');
  });

  it('checks a name with a slash as a path, not along PATH', () => {
    assert.equal(findOnPath('./venv/bin/dlm', { path: '/usr/bin', platform: 'linux', isExecutable: files('./venv/bin/dlm') }), './venv/bin/dlm');
    assert.equal(findOnPath('/nope/dlm', { path: '/usr/bin', platform: 'linux', isExecutable: files('/usr/bin/dlm') }), undefined);
  });

  it('tries PATHEXT suffixes on Windows, with ; separators and quoted entries', () => {
    const found = findOnPath('dlm', {
      path: 'C:\\Windows;"C:\\Users\\me\\.local\\bin";C:\\Tools\\',
      pathext: '.COM;.EXE;.BAT;.CMD',
      platform: 'win32',
      isExecutable: files('C:\\Users\\me\\.local\\bin\\dlm.exe', 'C:\\Tools\\dlm.cmd'),
    });
    assert.equal(found, 'C:\\Users\\me\\.local\\bin\\dlm.exe');
  });

  it('uses the default PATHEXT when it is unset, and no suffix when the name has one', () => {
    assert.equal(
      findOnPath('uv', { path: 'C:\\bin', pathext: undefined, platform: 'win32', isExecutable: files('C:\\bin\\uv.exe') }),
      'C:\\bin\\uv.exe',
    );
    assert.equal(
      findOnPath('uv.exe', { path: 'C:\\bin', pathext: '.EXE', platform: 'win32', isExecutable: files('C:\\bin\\uv.exe') }),
      'C:\\bin\\uv.exe',
    );
  });
});
