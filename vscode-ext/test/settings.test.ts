import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { configurationPayload, DEFAULT_OPTIONS, isKnownJudge, serverOptions, SERVER_SETTING_KEYS } from '../src/settings';

describe('serverOptions', () => {
  it('gives the server defaults for unset values', () => {
    assert.deepEqual(serverOptions({}), { options: { ...DEFAULT_OPTIONS }, problems: [] });
    assert.deepEqual(
      serverOptions({ judge: undefined, samples: null, threshold: null, maxPairs: null, diagnosticsDelay: undefined }).options,
      DEFAULT_OPTIONS,
    );
  });

  it('maps valid settings to the keys the server reads', () => {
    const result = serverOptions({ judge: ' hf:./reward-model ', samples: 6, threshold: 0.25, maxPairs: 3, diagnosticsDelay: 0 });
    assert.deepEqual(result, {
      options: { judge: 'hf:./reward-model', samples: 6, threshold: 0.25, maxPairs: 3, diagnosticsDelay: 0, judgeUrl: null, rubric: null },
      problems: [],
    });
    assert.deepEqual(Object.keys(result.options).sort(), [...SERVER_SETTING_KEYS].sort());
  });

  it('replaces each bad value by its default and says so, naming the setting', () => {
    const result = serverOptions({ judge: '', samples: 1, threshold: -0.5, maxPairs: 2.5, diagnosticsDelay: 'soon' });
    assert.deepEqual(result.options, DEFAULT_OPTIONS);
    assert.equal(result.problems.length, 5);
    const joined = result.problems.join('\n');
    for (const key of ['dlm.judge', 'dlm.samples', 'dlm.threshold', 'dlm.maxPairs', 'dlm.diagnosticsDelay']) {
      assert.match(joined, new RegExp(`\`${key.replace('.', '\\.')}\``));
    }
    assert.match(joined, /`dlm\.samples` must be a whole number, 2 or more; got 1\. Using 4\./);
    assert.match(joined, /`dlm\.judge` must be .*; got ""\. Using "sway"\./);
    assert.match(joined, /`dlm\.threshold` .* Using the judge's default\./);
    assert.match(joined, /`dlm\.maxPairs` .* Using no limit\./);
  });

  it('rejects non-finite and non-number values, including booleans and numeric strings', () => {
    const result = serverOptions({ samples: '6', threshold: Number.NaN, maxPairs: true, diagnosticsDelay: Number.POSITIVE_INFINITY });
    assert.deepEqual(result.options, DEFAULT_OPTIONS);
    assert.equal(result.problems.length, 4);
  });

  it('keeps an unknown judge form but warns that mining will fail', () => {
    const result = serverOptions({ judge: 'gpt4' });
    assert.equal(result.options.judge, 'gpt4');
    assert.equal(result.problems.length, 1);
    assert.match(result.problems[0] ?? '', /not a judge dlm knows/);
  });
});

describe('api: judge settings', () => {
  it('passes the URL and rubric on, and says what an api: judge is missing', () => {
    const result = serverOptions({ judge: 'api:qwen', judgeUrl: ' http://127.0.0.1:8080/v1 ', rubric: '/r.yaml' });
    assert.equal(result.options.judgeUrl, 'http://127.0.0.1:8080/v1');
    assert.equal(result.options.rubric, '/r.yaml');
    assert.deepEqual(result.problems, []);
    const missing = serverOptions({ judge: 'api:qwen' });
    assert.match(missing.problems.join('\n'), /needs `dlm\.judgeUrl`/);
    const bad = serverOptions({ judgeUrl: 'localhost:8080', rubric: 7 });
    assert.equal(bad.problems.length, 2);
    assert.equal(bad.options.rubric, null);
  });
});

describe('isKnownJudge', () => {
  it('knows the selector forms of the miner', () => {
    for (const judge of ['sway', 'sway:logprob', 'hf:org/model', 'cli:python judge.py', 'prm:org/prm', 'reward', 'ensemble:judges.yaml', 'py:my_rewards:Brevity', 'api:qwen']) {
      assert.equal(isKnownJudge(judge), true, judge);
    }
    for (const judge of ['Sway', 'sway:', 'hf:', 'cli: ', 'openai:gpt', 'rewards', 'api:']) {
      assert.equal(isKnownJudge(judge), false, judge);
    }
  });
});

describe('configurationPayload', () => {
  it('nests the options under dlm, as didChangeConfiguration carries them', () => {
    const options = { ...DEFAULT_OPTIONS, samples: 8 };
    assert.deepEqual(configurationPayload(options), { settings: { dlm: options } });
  });
});
