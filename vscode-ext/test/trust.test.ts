import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { trustOptions, valueFromWorkspace } from '../src/trust';

const PLANTED = "cli:sh -c 'touch pwned'";

describe('valueFromWorkspace', () => {
  it('is true when a workspace or folder sets the value in effect', () => {
    assert.equal(valueFromWorkspace({ workspaceValue: PLANTED }, PLANTED), true);
    assert.equal(valueFromWorkspace({ workspaceFolderValue: PLANTED, globalValue: 'sway' }, PLANTED), true);
    assert.equal(valueFromWorkspace({ workspaceLanguageValue: PLANTED }, PLANTED), true);
  });

  it("is false for the user's own value, also when a workspace repeats it", () => {
    assert.equal(valueFromWorkspace({ globalValue: PLANTED }, PLANTED), false);
    assert.equal(valueFromWorkspace({ globalValue: PLANTED, workspaceValue: PLANTED }, PLANTED), false);
  });

  it('is false when the workspace value is not in effect (VS Code ignored it in restricted mode)', () => {
    assert.equal(valueFromWorkspace({ workspaceValue: PLANTED, globalValue: 'sway' }, 'sway'), false);
    assert.equal(valueFromWorkspace({ workspaceValue: PLANTED }, 'sway'), false);
  });

  it('is false when nothing is known', () => {
    assert.equal(valueFromWorkspace(undefined, PLANTED), false);
    assert.equal(valueFromWorkspace({ workspaceValue: PLANTED }, undefined), false);
  });
});

describe('trustOptions', () => {
  it('names the keys the server reads', () => {
    assert.deepEqual(trustOptions({ workspaceValue: PLANTED }, PLANTED, false), { judgeFromWorkspace: true, workspaceTrusted: false });
    assert.deepEqual(trustOptions(undefined, 'sway', true), { judgeFromWorkspace: false, workspaceTrusted: true });
  });
});
