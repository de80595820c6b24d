// The extension without VS Code: src/extension.ts is bundled the way the package
// is (esbuild, `vscode` external) and loaded with a fake `vscode` module
// (test/support/fakeVscode.ts). With no server to be found, activation must end
// in the error state with the fix. With a stand-in server that speaks LSP
// (test/support/fake-server.cjs), the real vscode-languageclient starts it, and
// the test checks what reaches the server: the settings, the commands with
// their document, mining progress in the status bar, and cancelling it; and
// that granting trust starts a server that an untrusted workspace held back.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import { quoteArgument } from '../src/commandLines';
import { fakeVscode, FakeUri, type FakeDocument, type FakeState, type Recorded } from './support/fakeVscode';

// Loaded at run time from node_modules; kept out of this test's own bundle.
const esbuild = require('esbuild') as typeof import('esbuild');

const root = join(__dirname, '..', '..');
const fakeServer = join(root, 'test', 'support', 'fake-server.cjs');

interface ExtensionModule {
  activate(context: { subscriptions: Array<{ dispose(): unknown }> }): void;
  deactivate(): Promise<void>;
}

interface LoggedMessage {
  id?: unknown;
  method?: string;
  params?: Record<string, unknown>;
}

/** Every copy loaded, so that a failed test still stops its server (else node --test never exits). */
const loaded: ExtensionModule[] = [];

/** Load a fresh copy of the bundle with `vscode` resolved to the fake. */
function loadExtension(bundle: string, vscode: unknown): ExtensionModule {
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = loader._load;
  loader._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? vscode : original.call(this, request, ...rest);
  };
  try {
    delete require.cache[bundle];
    const extension = require(bundle) as ExtensionModule;
    loaded.push(extension);
    return extension;
  } finally {
    loader._load = original;
  }
}

function newState(settings: Record<string, unknown>, document?: FakeDocument): FakeState {
  return { settings, folders: [], activeDocument: document, configurationListeners: [] };
}

function dlmDocument(path: string): FakeDocument {
  return { uri: FakeUri.file(path), languageId: 'dlm', version: 1, isDirty: true, fileName: path, isClosed: false, text: '::instruction::\n### Q\nQ?\n### A\nA.\n', saves: 0 };
}

async function until(check: () => boolean, what: string, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function status(recorded: Recorded): { text: string; command: unknown; visible: boolean; backgroundColor: unknown } {
  const item = recorded.statusItems[0];
  assert.ok(item !== undefined, 'no status bar item');
  return item;
}

describe('the bundled extension', () => {
  let directory = '';
  let bundle = '';
  const savedPath = process.env['PATH'];

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'dlm-ext-'));
    bundle = join(directory, 'extension.js');
    await esbuild.build({
      entryPoints: [join(root, 'src', 'extension.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node18',
      external: ['vscode'],
      logLevel: 'silent',
    });
  });

  afterEach(async () => {
    process.env['PATH'] = savedPath;
    await Promise.all(loaded.splice(0).map((extension) => extension.deactivate()));
  });

  after(() => {
    process.env['PATH'] = savedPath;
    rmSync(directory, { recursive: true, force: true });
  });

  it('without a server: registers every contributed command and shows the fix', async () => {
    process.env['PATH'] = directory; // nothing named dlm or uv in there
    const { vscode, recorded } = fakeVscode(newState({}, dlmDocument(join(directory, 'notes.dlm'))));
    const extension = loadExtension(bundle, vscode);
    const context = { subscriptions: [] as Array<{ dispose(): unknown }> };
    extension.activate(context);
    await until(() => recorded.errors.length > 0, 'the error message');

    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      contributes: { commands: Array<{ command: string }> };
    };
    for (const { command } of manifest.contributes.commands) {
      assert.ok(recorded.commands.has(command), `${command} is contributed but not registered`);
    }
    assert.ok(recorded.commands.has('dlm.showServerProblem'), 'the status bar command is registered');

    assert.equal(recorded.errors.length, 1);
    assert.match(recorded.errors[0] ?? '', /`dlm` is not on PATH/);
    assert.match(recorded.errors[0] ?? '', /Fix: install dlm/);
    assert.equal(status(recorded).text, '$(error) dlm');
    assert.equal(status(recorded).command, 'dlm.showServerProblem');
    assert.equal(status(recorded).visible, true);
    assert.equal((status(recorded).backgroundColor as { id?: string } | undefined)?.id, 'statusBarItem.errorBackground');

    // Commands that need the server say why they cannot run instead of throwing.
    await recorded.commands.get('dlm.applyStagedPairs')?.();
    assert.equal(recorded.errors.length, 2);
    await recorded.commands.get('dlm.cancelMining')?.();
    assert.match(recorded.infos.at(-1) ?? '', /nothing is being mined/);

    await extension.deactivate();
    context.subscriptions.forEach((each) => each.dispose());
  });

  it('a server command that cannot start: an error with Show Output, and the status bar says so', async () => {
    const missing = join(directory, 'no-such-dlm');
    const { vscode, recorded } = fakeVscode(newState({ 'dlm.server.command': [missing, 'lsp'] }));
    const extension = loadExtension(bundle, vscode);
    extension.activate({ subscriptions: [] });
    // vscode-languageclient reports the failed connection too; ours names the command and the fix.
    const ours = (): string | undefined => recorded.errors.find((text) => /did not start/.test(text));
    await until(() => ours() !== undefined, 'the error message');
    assert.match(ours() ?? '', /no-such-dlm.*Fix:/s);
    assert.equal(status(recorded).text, '$(error) dlm');
    await extension.deactivate();
  });

  it('reports a malformed dlm.server.command', async () => {
    const { vscode, recorded } = fakeVscode(newState({ 'dlm.server.command': 42 }));
    const extension = loadExtension(bundle, vscode);
    extension.activate({ subscriptions: [] });
    await until(() => recorded.errors.length > 0, 'the error message');
    assert.equal(recorded.errors.length, 1);
    assert.match(recorded.errors[0] ?? '', /`dlm\.server\.command` must be a list of strings/);
    await extension.deactivate();
  });

  it('with a server: settings, commands, mining progress and cancel go through vscode-languageclient', async () => {
    const serverLog = join(directory, 'server.log');
    writeFileSync(serverLog, '');
    process.env['FAKE_SERVER_LOG'] = serverLog;
    const messages = (): LoggedMessage[] =>
      readFileSync(serverLog, 'utf8')
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line) as LoggedMessage);
    const received = (method: string) => messages().filter((message) => message.method === method);

    const documentPath = join(directory, 'my notes.dlm');
    const document = dlmDocument(documentPath);
    const uri = document.uri.toString();
    const state = newState(
      { 'dlm.server.command': [process.execPath, fakeServer, 'lsp'], 'dlm.judge': 'hf:./rm', 'dlm.samples': 6 },
      document,
    );
    const { vscode, recorded } = fakeVscode(state);
    const extension = loadExtension(bundle, vscode);
    const context = { subscriptions: [] as Array<{ dispose(): unknown }> };
    extension.activate(context);
    assert.equal(status(recorded).text, '$(loading~spin) dlm', 'activation does not wait for the server');
    await until(() => status(recorded).text === '$(check) dlm', 'the running state');
    assert.deepEqual(recorded.errors, []);

    // Settings reach the server as initializationOptions.
    const [initialize] = received('initialize');
    assert.deepEqual(initialize?.params?.['initializationOptions'], {
      diagnosticsDelay: 0.2,
      judge: 'hf:./rm',
      samples: 6,
      threshold: null,
      maxPairs: null,
      judgeUrl: null,
      rubric: null,
      judgeFromWorkspace: false,
      workspaceTrusted: true,
    });

    // vscode-languageclient registers the server's commands next to the extension's,
    // just after it reports the running state.
    const serverIds = ['dlm.minePreferences', 'dlm.applyStaged', 'dlm.revertMined', 'dlm.refreshStaged'];
    await until(() => serverIds.every((id) => recorded.commands.has(id)), `the server's commands (${serverIds.join(', ')})`);

    // Apply: saves the document, then runs the server command on its URI.
    await recorded.commands.get('dlm.applyStagedPairs')?.();
    assert.equal(document.saves, 1);
    const apply = received('workspace/executeCommand').find((message) => message.params?.['command'] === 'dlm.applyStaged');
    assert.deepEqual(apply?.params?.['arguments'], [uri]);
    await recorded.commands.get('dlm.revertMinedSections')?.();
    const revert = received('workspace/executeCommand').find((message) => message.params?.['command'] === 'dlm.revertMined');
    assert.deepEqual(revert?.params?.['arguments'], [uri]);

    // A settings change is sent as didChangeConfiguration, under `dlm`.
    state.settings['dlm.samples'] = 8;
    state.settings['dlm.maxPairs'] = 3;
    state.configurationListeners.forEach((listener) => listener({ affectsConfiguration: (section) => section === 'dlm' || section === 'dlm.samples' }));
    await until(() => received('workspace/didChangeConfiguration').length > 0, 'didChangeConfiguration');
    assert.deepEqual(received('workspace/didChangeConfiguration')[0]?.params, {
      settings: {
        dlm: {
          diagnosticsDelay: 0.2,
          judge: 'hf:./rm',
          samples: 8,
          threshold: null,
          maxPairs: 3,
          judgeUrl: null,
          rubric: null,
          judgeFromWorkspace: false,
          workspaceTrusted: true,
        },
      },
    });

    // Mine at cursor: the server's code action at the cursor gives the section; progress shows in the status bar.
    const mining = recorded.commands.get('dlm.mineAtCursor')?.();
    await until(() => status(recorded).text.includes('sample 3/8'), 'mining progress in the status bar');
    assert.equal(status(recorded).text, '$(sync~spin) dlm: sample 3/8 37%');
    assert.equal(status(recorded).command, 'dlm.cancelMining');
    const mine = received('workspace/executeCommand').find((message) => message.params?.['command'] === 'dlm.minePreferences');
    assert.deepEqual(mine?.params?.['arguments'], [uri, 'abcdef0123456789']);
    assert.deepEqual(recorded.progressTitles, ['Mining preferences'], 'the native progress notification is kept');

    // Cancel from the status bar: the server gets the work-done cancel and ends the progress.
    await recorded.commands.get('dlm.cancelMining')?.();
    await mining;
    assert.deepEqual(received('window/workDoneProgress/cancel').map((message) => message.params), [{ token: 'dlm-mine-abcdef0123456789' }]);
    await until(() => status(recorded).text === '$(check) dlm: Cancelled', 'the end of mining');

    // Train and metrics: the server command with `lsp` replaced, in a terminal, quoted for bash.
    await recorded.commands.get('dlm.trainDocument')?.();
    await recorded.commands.get('dlm.showMetrics')?.();
    const program = `${quoteArgument(process.execPath, 'posix')} ${quoteArgument(fakeServer, 'posix')}`;
    assert.match(documentPath, /^[^']*$/);
    assert.deepEqual(
      recorded.terminals.map((terminal) => [terminal.name, terminal.sent]),
      [
        ['dlm train my notes.dlm', [`${program} train '${documentPath}'`]],
        ['dlm metrics my notes.dlm', [`${program} metrics '${documentPath}'`]],
      ],
    );

    // Changing the server command restarts the server.
    const starts = received('initialize').length;
    state.configurationListeners.forEach((listener) => listener({ affectsConfiguration: (section) => section.startsWith('dlm') }));
    await until(() => received('initialize').length === starts + 1 && status(recorded).text.startsWith('$(check) dlm'), 'a restart');
    assert.equal(received('shutdown').length, 1);
    // Stopping a client before it has sent didOpen makes vscode-languageclient report the failed send.
    await until(() => received('textDocument/didOpen').length === 2, 'the document opened on the new server');

    await extension.deactivate();
    context.subscriptions.forEach((each) => each.dispose());
    assert.equal(received('shutdown').length, 2);
    assert.deepEqual(recorded.errors, []);
  });

  it('Train on Save runs `dlm train PATH --watch` and shows its state in a status bar item of its own', async () => {
    const serverLog = join(directory, 'watch.log');
    writeFileSync(serverLog, '');
    process.env['FAKE_SERVER_LOG'] = serverLog;
    const documentPath = join(directory, 'watched.dlm');
    const document = dlmDocument(documentPath);
    const { vscode, recorded } = fakeVscode(newState({ 'dlm.server.command': [process.execPath, fakeServer, 'lsp'] }, document));
    const extension = loadExtension(bundle, vscode);
    const context = { subscriptions: [] as Array<{ dispose(): unknown }> };
    extension.activate(context);
    await until(() => status(recorded).text === '$(check) dlm', 'the running state');

    await recorded.commands.get('dlm.stopTrainOnSave')?.();
    assert.match(recorded.infos.at(-1) ?? '', /Train on Save is not running/);
    await recorded.commands.get('dlm.trainOnSave')?.();
    assert.equal(document.saves, 1, 'the document is saved first');
    const watchItem = () => recorded.statusItems[1];
    await until(() => watchItem()?.text === '$(eye) dlm watch v0001', 'the version in the watch item');
    assert.equal(watchItem()?.command, 'dlm.stopTrainOnSave');
    assert.equal(watchItem()?.visible, true);
    await until(() => recorded.output.some((line) => line.startsWith('argv: ')), 'the process output');
    const argv = recorded.output.find((line) => line.startsWith('argv: '))?.slice('argv: '.length);
    assert.deepEqual(JSON.parse(argv ?? '[]'), ['train', documentPath, '--watch', '--progress', 'jsonl']);

    await recorded.commands.get('dlm.stopTrainOnSave')?.();
    await until(() => watchItem()?.text === '$(eye-closed) dlm watch stopped v0001', 'the stopped watch');
    assert.ok(recorded.output.includes('Train on Save: dlm train --watch exited with 0.'), recorded.output.join('\n'));
    assert.deepEqual([recorded.errors, recorded.warnings], [[], []]);
    await extension.deactivate();
    context.subscriptions.forEach((each) => each.dispose());
  });

  it("tells the server where the judge came from and whether the workspace is trusted", async () => {
    const serverLog = join(directory, 'trust.log');
    writeFileSync(serverLog, '');
    process.env['FAKE_SERVER_LOG'] = serverLog;
    const received = (method: string): LoggedMessage[] =>
      readFileSync(serverLog, 'utf8')
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line) as LoggedMessage)
        .filter((message) => message.method === method);
    const planted = "cli:sh -c 'touch pwned'";
    const state = newState({ 'dlm.server.command': [process.execPath, fakeServer, 'lsp'], 'dlm.judge': planted }, dlmDocument(join(directory, 'trust.dlm')));
    state.workspaceSettings = { 'dlm.judge': planted };
    state.trusted = false;
    const { vscode, recorded } = fakeVscode(state);
    const extension = loadExtension(bundle, vscode);
    extension.activate({ subscriptions: [] });
    await until(() => status(recorded).text === '$(check) dlm', 'the running state');
    const [initialize] = received('initialize');
    const options = initialize?.params?.['initializationOptions'] as Record<string, unknown> | undefined;
    assert.deepEqual([options?.['judge'], options?.['judgeFromWorkspace'], options?.['workspaceTrusted']], [planted, true, false]);

    // Granting trust sends the settings again, now trusted.
    state.trusted = true;
    state.trustListeners?.forEach((listener) => listener());
    await until(() => received('workspace/didChangeConfiguration').length > 0, 'didChangeConfiguration');
    const sent = received('workspace/didChangeConfiguration')[0]?.params as { settings: { dlm: Record<string, unknown> } } | undefined;
    assert.deepEqual([sent?.settings.dlm['judgeFromWorkspace'], sent?.settings.dlm['workspaceTrusted']], [true, true]);
    await extension.deactivate();
  });
  it('warns about a bad setting once per distinct set of problems, and restarts on request', async () => {
    const serverLog = join(directory, 'restart.log');
    writeFileSync(serverLog, '');
    process.env['FAKE_SERVER_LOG'] = serverLog;
    const received = (method: string): LoggedMessage[] =>
      readFileSync(serverLog, 'utf8')
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line) as LoggedMessage)
        .filter((message) => message.method === method);
    const state = newState({ 'dlm.server.command': [process.execPath, fakeServer, 'lsp'], 'dlm.samples': 1 }, dlmDocument(join(directory, 'restart.dlm')));
    const { vscode, recorded } = fakeVscode(state);
    const extension = loadExtension(bundle, vscode);
    const context = { subscriptions: [] as Array<{ dispose(): unknown }> };
    extension.activate(context);
    await until(() => status(recorded).text === '$(check) dlm', 'the running state');
    assert.equal(recorded.warnings.length, 1);
    assert.match(recorded.warnings[0] ?? '', /`dlm\.samples` must be a whole number, 2 or more; got 1\. Using 4\./);
    const initialize = received('initialize')[0]?.params?.['initializationOptions'] as Record<string, unknown> | undefined;
    assert.equal(initialize?.['samples'], 4, 'the default replaces the bad value');

    // The same problem again: sent, not shown again; a new one is shown.
    const changed = (): void => state.configurationListeners.forEach((listener) => listener({ affectsConfiguration: (section) => section === 'dlm' || section === 'dlm.judge' }));
    state.settings['dlm.judge'] = 'hf:./rm';
    changed();
    await until(() => received('workspace/didChangeConfiguration').length === 1, 'the first didChangeConfiguration');
    assert.equal(recorded.warnings.length, 1);
    state.settings['dlm.judge'] = 'mystery';
    changed();
    await until(() => received('workspace/didChangeConfiguration').length === 2, 'the second didChangeConfiguration');
    assert.equal(recorded.warnings.length, 3, 'both problems of the new set');
    assert.match(recorded.warnings[1] ?? '', /`dlm\.judge` is "mystery"/);
    assert.match(recorded.warnings[2] ?? '', /`dlm\.samples`/);

    // dlm: Restart Language Server stops the server and starts a new one.
    await recorded.commands.get('dlm.restartServer')?.();
    await until(() => received('initialize').length === 2 && status(recorded).text === '$(check) dlm', 'a restart');
    assert.equal(received('shutdown').length, 1);
    await until(() => received('textDocument/didOpen').length === 2, 'the document opened on the new server');
    assert.deepEqual(recorded.errors, []);
    await extension.deactivate();
    context.subscriptions.forEach((each) => each.dispose());
    assert.equal(received('shutdown').length, 2);
  });

  it('starts `uv run dlm lsp` in the dlm project once the workspace is trusted', { skip: process.platform === 'win32' && 'a shell script stands in for uv' }, async () => {
    const serverLog = join(directory, 'uv.log');
    writeFileSync(serverLog, '');
    process.env['FAKE_SERVER_LOG'] = serverLog;
    const project = join(directory, 'project');
    const bin = join(directory, 'bin');
    mkdirSync(project, { recursive: true });
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(project, 'pyproject.toml'), '[project]\nname = "notes"\ndependencies = ["dlm-toolkit"]\n');
    // A stand-in `uv`: whatever it is asked to run, it runs the fake server.
    writeFileSync(join(bin, 'uv'), `#!/bin/sh\nexec ${quoteArgument(process.execPath, 'posix')} ${quoteArgument(fakeServer, 'posix')} "$@"\n`);
    chmodSync(join(bin, 'uv'), 0o755);
    process.env['PATH'] = [join(directory, 'empty'), bin].join(delimiter);
    const state = newState({}, dlmDocument(join(project, 'notes.dlm')));
    state.folders = [project];
    state.trusted = false;
    const { vscode, recorded } = fakeVscode(state);
    const extension = loadExtension(bundle, vscode);
    const context = { subscriptions: [] as Array<{ dispose(): unknown }> };
    extension.activate(context);
    await until(() => recorded.errors.length > 0, 'the error message');
    assert.match(recorded.errors[0] ?? '', /this workspace is not trusted/);
    assert.equal(status(recorded).text, '$(error) dlm');

    state.trusted = true;
    state.trustListeners?.forEach((listener) => listener());
    await until(() => status(recorded).text === '$(check) dlm', 'the running state after trust');
    assert.equal(recorded.errors.length, 1);
    assert.ok(recorded.output.some((line) => line.includes('uv run in the dlm project')), recorded.output.join('\n'));
    const opened = (): boolean => readFileSync(serverLog, 'utf8').includes('"textDocument/didOpen"');
    await until(opened, 'the document opened on the server');
    await extension.deactivate();
    context.subscriptions.forEach((each) => each.dispose());
  });
});
