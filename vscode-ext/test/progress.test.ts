import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FINISHED_VISIBLE_MS, ProgressBoard, statusBarView, workDoneValue } from '../src/progress';

// The values lsp/features/loop.py sends for one mining run.
function mine(board: ProgressBoard, token: string, start: number): void {
  board.update(token, { kind: 'begin', title: 'Mining preferences', cancellable: true, message: 'notes.dlm (sway)' }, start);
  board.update(token, { kind: 'report', message: 'load' }, start + 1);
  board.update(token, { kind: 'report', message: 'sample 3/8', percentage: 37 }, start + 2);
}

describe('ProgressBoard', () => {
  it('shows nothing before any progress', () => {
    assert.equal(new ProgressBoard().view(0), undefined);
  });

  it('shows the begin message, then the latest report with its percentage', () => {
    const board = new ProgressBoard();
    board.update('t', { kind: 'begin', title: 'Mining preferences', cancellable: true, message: 'notes.dlm (sway)' }, 0);
    assert.deepEqual(board.view(0), {
      busy: true,
      token: 't',
      cancellable: true,
      text: 'notes.dlm (sway)',
      detail: 'Mining preferences: notes.dlm (sway)',
    });
    board.update('t', { kind: 'report', message: 'sample 3/8', percentage: 37 }, 1);
    assert.equal(board.view(1)?.text, 'sample 3/8 37%');
    board.update('t', { kind: 'report', percentage: 50 }, 2);
    assert.equal(board.view(2)?.text, 'sample 3/8 50%');
    assert.deepEqual(board.tokens(), ['t']);
  });

  it('shows the end message for a while, then nothing', () => {
    const board = new ProgressBoard();
    mine(board, 't', 0);
    board.update('t', { kind: 'end', message: '2 pair(s) staged' }, 100);
    assert.deepEqual(board.tokens(), []);
    assert.deepEqual(board.view(101), {
      busy: false,
      cancellable: false,
      text: '2 pair(s) staged',
      detail: 'Mining preferences: 2 pair(s) staged',
    });
    assert.equal(board.view(100 + FINISHED_VISIBLE_MS), undefined);
  });

  it('counts concurrent tasks and shows the newest', () => {
    const board = new ProgressBoard();
    mine(board, 'a', 0);
    mine(board, 'b', 10);
    board.update('b', { kind: 'report', message: 'judge 1/4' }, 11);
    const view = board.view(12);
    assert.equal(view?.token, 'b');
    assert.equal(view?.text, 'judge 1/4 37% (+1)');
    assert.equal(view?.detail, 'Mining preferences: sample 3/8 (37%)\nMining preferences: judge 1/4 (37%)');
    board.update('b', { kind: 'end', message: 'Cancelled' }, 13);
    assert.equal(board.view(14)?.token, 'a');
  });

  it('ignores reports for unknown tokens, clamps percentages and flattens long messages', () => {
    const board = new ProgressBoard();
    board.update(7, { kind: 'report', message: 'stray' }, 0);
    assert.equal(board.view(0), undefined);
    board.update(7, { kind: 'begin', title: 'Work', percentage: 140 }, 0);
    assert.equal(board.view(0)?.text, 'Work 100%');
    board.update(7, { kind: 'report', message: `judge\n${'x'.repeat(100)}`, percentage: -3 }, 1);
    const text = board.view(1)?.text ?? '';
    assert.match(text, /^judge x+… 0%$/);
    assert.ok(text.length < 60);
  });

  it('reports an end without a begin as a finished task', () => {
    const board = new ProgressBoard();
    board.update('x', { kind: 'end' }, 0);
    assert.equal(board.view(1)?.text, 'done');
  });
});

describe('statusBarView', () => {
  it('shows mining progress while running, and clicking cancels it', () => {
    const board = new ProgressBoard();
    mine(board, 't', 0);
    const view = statusBarView('running', board.view(3), 'dlm lsp');
    assert.equal(view.text, '$(sync~spin) dlm: sample 3/8 37%');
    assert.equal(view.command, 'dlm.cancelMining');
    assert.match(view.tooltip, /Mining preferences: sample 3\/8 \(37%\)\n\nClick to cancel\./);
    assert.equal(view.error, false);
  });

  it('shows the last result after mining ends', () => {
    const board = new ProgressBoard();
    mine(board, 't', 0);
    board.update('t', { kind: 'end', message: '2 pair(s) staged' }, 5);
    const view = statusBarView('running', board.view(6), 'dlm lsp');
    assert.equal(view.text, '$(check) dlm: 2 pair(s) staged');
    assert.equal(view.command, 'dlm.showOutput');
  });

  it('shows each server state with its click action', () => {
    assert.deepEqual(statusBarView('starting', undefined, 'uv run dlm lsp'), {
      text: '$(loading~spin) dlm',
      tooltip: 'dlm language server: starting\nuv run dlm lsp',
      command: 'dlm.showOutput',
      error: false,
    });
    assert.equal(statusBarView('running', undefined, 'x').text, '$(check) dlm');
    assert.equal(statusBarView('stopped', undefined, 'x').command, 'dlm.restartServer');
    const failed = statusBarView('failed', undefined, '`dlm` is not on PATH');
    assert.equal(failed.text, '$(error) dlm');
    assert.equal(failed.command, 'dlm.showServerProblem');
    assert.equal(failed.error, true);
    assert.match(failed.tooltip, /not on PATH/);
  });
});

describe('workDoneValue', () => {
  it('keeps the fields each kind has, and only those that are set', () => {
    assert.deepEqual(workDoneValue({ kind: 'begin', title: 'Mining preferences', cancellable: true }), {
      kind: 'begin',
      title: 'Mining preferences',
      cancellable: true,
    });
    assert.deepEqual(workDoneValue({ kind: 'begin' }), { kind: 'begin', title: 'Working' });
    assert.deepEqual(workDoneValue({ kind: 'report', message: 'sample 3/8', percentage: 37, title: 'ignored' }), {
      kind: 'report',
      message: 'sample 3/8',
      percentage: 37,
    });
    assert.deepEqual(workDoneValue({ kind: 'end', message: 'done', percentage: 100, cancellable: false }), { kind: 'end', message: 'done' });
  });

  it('ends the task on a kind it does not know', () => {
    assert.deepEqual(workDoneValue({ kind: 'mystery' }), { kind: 'end' });
  });
});
