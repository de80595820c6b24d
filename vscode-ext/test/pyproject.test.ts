import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { normaliseName, pyprojectUsesDlm, requirementName } from '../src/pyproject';

describe('pyprojectUsesDlm', () => {
  it('accepts the dlm project itself (its real pyproject.toml header)', () => {
    const verdict = pyprojectUsesDlm('[project]\nname = "dlm-toolkit"\nversion = "0.1.0"\ndependencies = ["lark==1.3.1"]\n');
    assert.equal(verdict.uses, true);
    assert.match(verdict.reason, /is the dlm-toolkit project/);
  });

  it('normalises the project name (PEP 503)', () => {
    assert.equal(pyprojectUsesDlm('[project]\nname = "DLM_Toolkit"\n').uses, true);
    assert.equal(pyprojectUsesDlm('[project]\nname = "dlm.toolkit"\n').uses, true);
  });

  it('accepts a project that depends on dlm-toolkit, wherever it is declared', () => {
    const cases = [
      '[project]\nname = "notes"\ndependencies = ["requests", "dlm-toolkit>=0.1"]\n',
      '[project]\nname = "notes"\n[project.optional-dependencies]\ntrain = ["dlm_toolkit[gpu] @ file:///src/dlm"]\n',
      '[project]\nname = "notes"\n[dependency-groups]\ndev = [{include-group = "lint"}, "dlm-toolkit ; python_version >= \'3.11\'"]\nlint = ["ruff"]\n',
      '[project]\nname = "notes"\n[tool.uv]\ndev-dependencies = ["Dlm-Toolkit==0.1.0"]\n',
    ];
    for (const text of cases) {
      const verdict = pyprojectUsesDlm(text);
      assert.equal(verdict.uses, true, text);
      assert.match(verdict.reason, /depends on dlm-toolkit/);
    }
  });

  it('rejects other projects, including DocumentLanguageModel and look-alike names', () => {
    const cases = [
      '[project]\nname = "notes"\ndependencies = ["requests"]\n',
      '[project]\nname = "document-language-model"\n',
      '[project]\nname = "dlm"\n',
      '[project]\nname = "notes"\ndependencies = ["dlm-toolkit-extras", "mydlm-toolkit", "dlm"]\n',
      '[tool.poetry]\nname = "dlm-toolkit"\n',
      '',
    ];
    for (const text of cases) {
      assert.equal(pyprojectUsesDlm(text).uses, false, text);
    }
  });

  it('rejects invalid TOML with a reason instead of throwing', () => {
    const verdict = pyprojectUsesDlm('[project\nname = "dlm-toolkit"\n');
    assert.equal(verdict.uses, false);
    assert.match(verdict.reason, /not valid TOML/);
  });

  it('ignores values of the wrong type', () => {
    assert.equal(pyprojectUsesDlm('[project]\nname = 3\ndependencies = "dlm-toolkit"\n').uses, false);
    assert.equal(pyprojectUsesDlm('project = "dlm-toolkit"\n').uses, false);
  });
});

describe('requirementName and normaliseName', () => {
  it('reads the distribution name of PEP 508 strings', () => {
    assert.equal(requirementName('dlm-toolkit>=0.1'), 'dlm-toolkit');
    assert.equal(requirementName('  DLM_Toolkit [gpu] ; sys_platform == "linux"'), 'dlm-toolkit');
    assert.equal(requirementName('dlm.toolkit@ https://example.invalid/x.whl'), 'dlm-toolkit');
    assert.equal(requirementName(''), undefined);
    assert.equal(requirementName('>=1.0'), undefined);
  });

  it('collapses runs of separators', () => {
    assert.equal(normaliseName('Dlm__-.Toolkit'), 'dlm-toolkit');
  });
});
