import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { trainWatchArgv } from '../src/commandLines';
import { startedWatch, watchUpdate, watchView, type WatchStatus } from '../src/trainWatch';

/** A "watch" stage line as dlm/progress.py writes it. */
function watch(event: string, message: string, version?: string): string {
  return JSON.stringify({ event, stage: 'watch', done: 0, total: 0, message, ...(version !== undefined ? { version } : {}) });
}

function train(event: string, done: number, total: number): string {
  return JSON.stringify({ event, stage: 'train', done, total, message: '' });
}

function feed(lines: string[], status: WatchStatus = startedWatch()): WatchStatus {
  return lines.reduce(watchUpdate, status);
}

describe('Train on Save', () => {
  it('runs dlm train with --watch and JSON progress', () => {
    assert.deepEqual(trainWatchArgv(['uv', 'run', 'dlm'], '/n/notes.dlm'), ['uv', 'run', 'dlm', 'train', '/n/notes.dlm', '--watch', '--progress', 'jsonl']);
  });

  it('shows starting, the steps of a run, then the version it wrote while waiting', () => {
    assert.equal(watchView(startedWatch(), 'notes.dlm').text, '$(loading~spin) dlm watch');
    const training = feed([watch('training', 'Training notes.dlm.'), train('start', 0, 40), train('progress', 3, 40)]);
    assert.equal(watchView(training, 'notes.dlm').text, '$(sync~spin) dlm training 3/40');
    const waiting = feed([watch('trained', 'Trained notes.dlm: adapter v0002.', 'v0002'), watch('waiting', 'Watching notes.dlm')], training);
    assert.deepEqual(watchView(waiting, 'notes.dlm'), {
      text: '$(eye) dlm watch v0002',
      tooltip: 'dlm train --watch notes.dlm\nTrained notes.dlm: adapter v0002.\n\nClick to stop watching.',
      command: 'dlm.stopTrainOnSave',
    });
  });

  it('keeps showing errors in the document until a save fixes them', () => {
    const trained = feed([watch('training', 't'), watch('trained', 'done', 'v0001'), watch('waiting', 'w')]);
    const invalid = feed([watch('changed', 'c'), watch('invalid', 'notes.dlm has errors (above); not training.'), watch('waiting', 'w')], trained);
    assert.equal(watchView(invalid, 'notes.dlm').text, '$(warning) dlm watch: errors');
    assert.match(watchView(invalid, 'notes.dlm').tooltip, /has errors/);
    const again = feed([watch('changed', 'c'), watch('unchanged', 'notes.dlm is unchanged since the last run'), watch('waiting', 'w')], invalid);
    assert.equal(watchView(again, 'notes.dlm').text, '$(eye) dlm watch v0001');
    const failed = feed([watch('changed', 'c'), watch('training', 't'), watch('failed', 'Training failed (above)'), watch('waiting', 'w')], again);
    assert.equal(watchView(failed, 'notes.dlm').text, '$(error) dlm watch: failed');
  });

  it('ignores text, other JSON and unknown events; says when it stopped', () => {
    const status = feed([watch('waiting', 'Watching')]);
    for (const line of ['Run 1 (sft): 2 steps', '{not json', '[1]', '{"event": "x"}', watch('future-event', 'x'), train('message', 0, 0)]) {
      assert.equal(watchUpdate(status, line), status, line);
    }
    const stopped = watchUpdate(status, watch('stopped', 'Stopped watching.'));
    assert.equal(watchView(stopped, 'notes.dlm').text, '$(eye-closed) dlm watch stopped');
    assert.equal(watchView(stopped, 'notes.dlm').command, 'dlm.showOutput');
  });
});
