import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { findCommand, NO_MINE_ACTION, SERVER_COMMANDS } from '../src/codeActions';

describe('findCommand', () => {
  const uri = 'file:///w/notes.dlm';
  const actions = [
    { title: 'Rename `lora_rr` to `lora_r`' },
    { title: 'Apply 2 staged pairs', command: { title: 'Apply staged pairs', command: SERVER_COMMANDS.apply, arguments: [uri] } },
    { title: 'Mine preferences here (3 questions)', command: { title: 'Mine preferences here', command: SERVER_COMMANDS.mine, arguments: [uri, '0123456789abcdef'] } },
  ];

  it('finds the server command inside a code action, with its arguments', () => {
    assert.deepEqual(findCommand(actions, SERVER_COMMANDS.mine), {
      title: 'Mine preferences here',
      command: 'dlm.minePreferences',
      arguments: [uri, '0123456789abcdef'],
    });
  });

  it('accepts bare commands, as providers may return them', () => {
    const bare = [{ title: 'Revert 1 mined section', command: SERVER_COMMANDS.revert, arguments: [uri] }];
    assert.deepEqual(findCommand(bare, SERVER_COMMANDS.revert), { title: 'Revert 1 mined section', command: 'dlm.revertMined', arguments: [uri] });
  });

  it('returns undefined when no action has the command, or there are no actions', () => {
    assert.equal(findCommand(actions, SERVER_COMMANDS.revert), undefined);
    assert.equal(findCommand([], SERVER_COMMANDS.mine), undefined);
    assert.equal(findCommand(undefined, SERVER_COMMANDS.mine), undefined);
  });

  it('defaults missing arguments to an empty list', () => {
    assert.deepEqual(findCommand([{ command: { command: SERVER_COMMANDS.apply } }], SERVER_COMMANDS.apply), { command: 'dlm.applyStaged', arguments: [] });
  });

  it('names the server commands of lsp/features/loop.py, training.py, asking.py and synthesis.py', () => {
    assert.deepEqual(SERVER_COMMANDS, {
      mine: 'dlm.minePreferences',
      apply: 'dlm.applyStaged',
      revert: 'dlm.revertMined',
      refresh: 'dlm.refreshStaged',
      train: 'dlm.trainAdapter',
      metrics: 'dlm.metricsSummary',
      ask: 'dlm.askAdapter',
      synthesize: 'dlm.synthesizeQuestions',
    });
    assert.match(NO_MINE_ACTION, /::instruction::/);
  });
});
