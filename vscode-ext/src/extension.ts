// The extension's wiring: starts `dlm lsp` through vscode-languageclient, keeps the
// server's settings in step with VS Code's, shows the server state and mining
// progress in the status bar, and registers the commands. The decisions live in
// the modules this file imports; this file only talks to VS Code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  State,
  WorkDoneProgressCancelNotification,
  type LanguageClientOptions,
  type ServerOptions as ClientServerOptions,
} from 'vscode-languageclient/node';

import { findCommand, NO_MINE_ACTION, SERVER_COMMANDS, type ActionLike } from './codeActions';
import { cliPrefix, commandLine, metricsArgv, shellKind, trainArgv } from './commandLines';
import { ProgressBoard, statusBarView, FINISHED_VISIBLE_MS, type ServerState, type WorkDoneValue } from './progress';
import { describeServerCommand, discoverServerCommand, type ServerCommand, type WorkspaceFolderInfo } from './serverCommand';
import { configurationPayload, serverOptions, type RawSettings, type ServerOptions } from './settings';
import { trustOptions, type TrustOptions } from './trust';
import { findOnPath } from './which';

let extension: DlmExtension | undefined;

/** VS Code entry point: called when a `.dlm` document opens. */
export function activate(context: vscode.ExtensionContext): void {
  extension = new DlmExtension();
  context.subscriptions.push(extension);
  extension.registerCommands(context);
  // Not awaited: a first `uv run` may take minutes to set up its environment, and
  // activation should not wait for it. The status bar shows the server starting.
  void extension.start();
}

/** VS Code exit point: stops the server. */
export async function deactivate(): Promise<void> {
  await extension?.stop();
  extension = undefined;
}

class DlmExtension implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private server: ServerCommand | undefined;
  private problem: string | undefined;
  private state: ServerState = 'stopped';
  private stopping = false;
  private lastProblems = '';
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly board = new ProgressBoard();
  private readonly output = vscode.window.createOutputChannel('dlm');
  private readonly status = vscode.window.createStatusBarItem('dlm.status', vscode.StatusBarAlignment.Left, 10);
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.status.name = 'dlm';
    this.disposables.push(
      this.output,
      this.status,
      vscode.workspace.onDidChangeConfiguration((event) => this.configurationChanged(event)),
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.sendSettings(false); // the server now runs the workspace's judge, whatever it is
        this.retryIfFailed();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.retryIfFailed()),
    );
    this.render();
  }

  /** Register every command the extension contributes (and the status bar's own). */
  registerCommands(context: vscode.ExtensionContext): void {
    const register = (id: string, run: (...args: never[]) => unknown): void => {
      context.subscriptions.push(
        vscode.commands.registerCommand(id, async (...args: never[]) => {
          try {
            await run(...args);
          } catch (error) {
            void vscode.window.showErrorMessage(`dlm: ${describeError(error)}`);
          }
        }),
      );
    };
    register('dlm.mineAtCursor', () => this.mineAtCursor());
    register('dlm.applyStagedPairs', () => this.runServerCommand(SERVER_COMMANDS.apply));
    register('dlm.revertMinedSections', () => this.runServerCommand(SERVER_COMMANDS.revert));
    register('dlm.trainDocument', (uri?: vscode.Uri) => this.runInTerminal('train', uri));
    register('dlm.showMetrics', (uri?: vscode.Uri) => this.runInTerminal('metrics', uri));
    register('dlm.cancelMining', () => this.cancelMining());
    register('dlm.restartServer', () => this.restart());
    register('dlm.showOutput', () => this.output.show(true));
    register('dlm.showServerProblem', () => this.showProblem());
  }

  /** Find the server command and start the client; on failure, say why and how to fix it. */
  async start(): Promise<void> {
    const discovery = discoverServerCommand({
      configured: vscode.workspace.getConfiguration('dlm').get<unknown>('server.command'),
      findExecutable: (name) =>
        findOnPath(name, {
          path: process.env['PATH'] ?? process.env['Path'],
          pathext: process.env['PATHEXT'],
          platform: process.platform,
          isExecutable,
        }),
      folders: workspaceFolders(),
      trusted: vscode.workspace.isTrusted,
    });
    if (!discovery.ok) {
      this.server = undefined;
      this.fail(discovery.message);
      return;
    }
    const server = discovery.server;
    this.server = server;
    this.problem = undefined;
    this.output.appendLine(`Starting the language server: ${describeServerCommand(server)}`);

    const executable: ClientServerOptions = {
      command: server.command,
      args: server.args,
      options: {
        ...(server.cwd !== undefined ? { cwd: server.cwd } : {}),
        // A .cmd or .bat launcher on Windows only runs through the shell.
        shell: process.platform === 'win32' && /\.(?:cmd|bat)$/i.test(server.command),
      },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'dlm' },
        { scheme: 'untitled', language: 'dlm' },
      ],
      initializationOptions: this.settings(true),
      outputChannel: this.output,
      // The failure is reported once, by start() below, with the command and the fix.
      initializationFailedHandler: (error) => {
        this.output.appendLine(`Initialization failed: ${describeError(error)}`);
        return false;
      },
      middleware: {
        handleWorkDoneProgress: (token, params, next) => {
          this.board.update(token, workDoneValue(params), Date.now());
          if (params.kind === 'end') {
            this.scheduleRefresh();
          }
          this.render();
          next(token, params);
        },
      },
    };
    const client = new LanguageClient('dlm', 'dlm language server', executable, clientOptions);
    let started = false;
    client.onDidChangeState((event) => {
      if (event.newState === State.Running) {
        this.problem = undefined; // also after vscode-languageclient restarted a crashed server
        this.setState('running');
      } else if (event.newState === State.Starting) {
        this.setState('starting');
      } else if (started && !this.stopping && this.client === client) {
        // A stop during start() is reported by its catch below.
        this.fail(`The language server stopped (${describeServerCommand(server)}). See the dlm output for its log.`);
      }
    });
    this.client = client;
    this.setState('starting');
    try {
      await client.start();
      started = true;
    } catch (error) {
      if (this.client === client) {
        this.fail(
          `The language server did not start: ${describeError(error)}. Command: ${describeServerCommand(server)}. ` +
            'Fix: check that this command runs `dlm lsp` from a terminal, or set `dlm.server.command`.',
        );
      }
    }
  }

  /** Stop the client (if any) without reporting it as a failure. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    this.stopping = true;
    try {
      await client.dispose();
    } catch (error) {
      this.output.appendLine(`Stopping the language server: ${describeError(error)}`);
    } finally {
      this.stopping = false;
    }
    this.setState('stopped');
  }

  dispose(): void {
    if (this.refreshTimer !== undefined) {
      clearTimeout(this.refreshTimer);
    }
    void this.stop();
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }

  private async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  private retryIfFailed(): void {
    if (this.state === 'failed' || this.state === 'stopped') {
      void this.restart();
    }
  }

  /**
   * The server options from the `dlm.*` settings, with where the judge came from and
   * whether the workspace is trusted; problems are shown once per distinct set.
   */
  private settings(showProblems: boolean): ServerOptions & TrustOptions {
    const config = vscode.workspace.getConfiguration('dlm');
    const raw: RawSettings = {
      diagnosticsDelay: config.get<unknown>('diagnosticsDelay'),
      judge: config.get<unknown>('judge'),
      samples: config.get<unknown>('samples'),
      threshold: config.get<unknown>('threshold'),
      maxPairs: config.get<unknown>('maxPairs'),
    };
    const { options, problems } = serverOptions(raw);
    const joined = problems.join('\n');
    if (showProblems && joined !== this.lastProblems) {
      for (const problem of problems) {
        this.output.appendLine(`Settings: ${problem}`);
        void vscode.window.showWarningMessage(`dlm: ${problem}`, 'Open Settings').then((choice) => {
          if (choice === 'Open Settings') {
            void vscode.commands.executeCommand('workbench.action.openSettings', '@ext:dlm-tools.dlm');
          }
        });
      }
    }
    this.lastProblems = joined;
    return { ...options, ...trustOptions(config.inspect('judge'), raw.judge, vscode.workspace.isTrusted) };
  }

  private configurationChanged(event: vscode.ConfigurationChangeEvent): void {
    if (event.affectsConfiguration('dlm.server.command')) {
      void this.restart();
      return;
    }
    if (event.affectsConfiguration('dlm')) {
      this.sendSettings(true);
    }
  }

  /** Send the settings to a running (or starting) server. */
  private sendSettings(showProblems: boolean): void {
    const options = this.settings(showProblems);
    // While starting, vscode-languageclient holds the notification until the server is up.
    if (this.client !== undefined && (this.state === 'running' || this.state === 'starting')) {
      this.client
        .sendNotification(DidChangeConfigurationNotification.type, configurationPayload(options))
        .catch((error: unknown) => this.output.appendLine(`Sending the settings failed: ${describeError(error)}`));
    }
  }

  private async mineAtCursor(): Promise<void> {
    const editor = this.dlmEditor();
    if (editor === undefined || !(await this.ready()) || !(await saved(editor.document))) {
      return;
    }
    const cursor = editor.selection.active;
    const actions = await vscode.commands.executeCommand<Array<vscode.Command | vscode.CodeAction>>(
      'vscode.executeCodeActionProvider',
      editor.document.uri,
      new vscode.Range(cursor, cursor),
    );
    const command = findCommand(actions as ActionLike[] | undefined, SERVER_COMMANDS.mine);
    if (command === undefined) {
      void vscode.window.showInformationMessage(NO_MINE_ACTION);
      return;
    }
    await vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
  }

  private async runServerCommand(command: string): Promise<void> {
    const editor = this.dlmEditor();
    if (editor === undefined || !(await this.ready()) || !(await saved(editor.document))) {
      return;
    }
    await vscode.commands.executeCommand(command, editor.document.uri.toString());
  }

  private async runInTerminal(verb: 'train' | 'metrics', uri: vscode.Uri | undefined): Promise<void> {
    const target = uri instanceof vscode.Uri ? uri : this.dlmEditor()?.document.uri;
    if (target === undefined) {
      return;
    }
    if (target.scheme !== 'file') {
      void vscode.window.showWarningMessage('dlm: save the document to a file first; dlm works on the file on disk.');
      return;
    }
    if (this.server === undefined) {
      await this.showProblem();
      return;
    }
    const open = vscode.workspace.textDocuments.find((document) => document.uri.toString() === target.toString());
    if (open !== undefined && !(await saved(open))) {
      return;
    }
    const prefix = cliPrefix(this.server);
    const argv = verb === 'train' ? trainArgv(prefix, target.fsPath) : metricsArgv(prefix, target.fsPath);
    const cwd = this.server.cwd ?? vscode.workspace.getWorkspaceFolder(target)?.uri.fsPath ?? path.dirname(target.fsPath);
    const terminal = vscode.window.createTerminal({ name: `dlm ${verb} ${path.basename(target.fsPath)}`, cwd });
    terminal.show();
    terminal.sendText(commandLine(argv, shellKind(vscode.env.shell, process.platform)), true);
  }

  private cancelMining(): void {
    const tokens = this.board.tokens();
    if (this.client === undefined || tokens.length === 0) {
      void vscode.window.showInformationMessage('dlm: nothing is being mined.');
      return;
    }
    for (const token of tokens) {
      this.client
        .sendNotification(WorkDoneProgressCancelNotification.type, { token })
        .catch((error: unknown) => this.output.appendLine(`Cancelling failed: ${describeError(error)}`));
    }
  }

  private async showProblem(): Promise<void> {
    if (this.problem === undefined) {
      this.output.show(true);
      return;
    }
    const choice = await vscode.window.showErrorMessage(`dlm: ${this.problem}`, 'Open Settings', 'Restart Server', 'Show Output');
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'dlm.server.command');
    } else if (choice === 'Restart Server') {
      await this.restart();
    } else if (choice === 'Show Output') {
      this.output.show(true);
    }
  }

  /** True when the server is running; otherwise tells the user why not. */
  private async ready(): Promise<boolean> {
    if (this.client !== undefined && this.state === 'running') {
      return true;
    }
    if (this.state === 'starting') {
      void vscode.window.showInformationMessage('dlm: the language server is still starting; try again in a moment.');
      return false;
    }
    await this.showProblem();
    return false;
  }

  private dlmEditor(): vscode.TextEditor | undefined {
    const editor = vscode.window.activeTextEditor;
    if (editor?.document.languageId === 'dlm') {
      return editor;
    }
    void vscode.window.showInformationMessage('dlm: open a .dlm document first.');
    return undefined;
  }

  private fail(message: string): void {
    this.problem = message;
    this.output.appendLine(message);
    this.setState('failed');
    void this.showProblem();
  }

  private setState(state: ServerState): void {
    this.state = state;
    this.render();
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer !== undefined) {
      clearTimeout(this.refreshTimer);
    }
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.render();
    }, FINISHED_VISIBLE_MS + 100);
  }

  private render(): void {
    const progress = this.board.view(Date.now());
    const detail = this.problem ?? (this.server !== undefined ? describeServerCommand(this.server) : '');
    const view = statusBarView(this.state, progress, detail);
    this.status.text = view.text;
    this.status.tooltip = view.tooltip;
    this.status.command = view.command;
    this.status.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    const dlmActive = vscode.window.activeTextEditor?.document.languageId === 'dlm';
    if (dlmActive || progress?.busy === true) {
      this.status.show();
    } else {
      this.status.hide();
    }
  }
}

/** Save a dirty document (dlm works on the file on disk); false when saving failed. */
async function saved(document: vscode.TextDocument): Promise<boolean> {
  if (!document.isDirty) {
    return true;
  }
  if (await document.save()) {
    return true;
  }
  void vscode.window.showWarningMessage(`dlm: ${path.basename(document.fileName)} could not be saved; dlm works on the file on disk.`);
  return false;
}

function workspaceFolders(): WorkspaceFolderInfo[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((folder) => folder.uri.scheme === 'file')
    .map((folder) => {
      const root = folder.uri.fsPath;
      let pyproject: string | undefined;
      try {
        pyproject = fs.readFileSync(path.join(root, 'pyproject.toml'), 'utf8');
      } catch {
        pyproject = undefined;
      }
      return { path: root, pyproject };
    });
}

function isExecutable(candidate: string): boolean {
  try {
    if (!fs.statSync(candidate).isFile()) {
      return false;
    }
    if (process.platform !== 'win32') {
      fs.accessSync(candidate, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

function workDoneValue(params: { kind: string; title?: string; message?: string; percentage?: number; cancellable?: boolean }): WorkDoneValue {
  const extra = {
    ...(params.message !== undefined ? { message: params.message } : {}),
    ...(params.percentage !== undefined ? { percentage: params.percentage } : {}),
  };
  if (params.kind === 'begin') {
    return { kind: 'begin', title: params.title ?? 'Working', ...extra, ...(params.cancellable !== undefined ? { cancellable: params.cancellable } : {}) };
  }
  if (params.kind === 'report') {
    return { kind: 'report', ...extra, ...(params.cancellable !== undefined ? { cancellable: params.cancellable } : {}) };
  }
  return { kind: 'end', ...(params.message !== undefined ? { message: params.message } : {}) };
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
