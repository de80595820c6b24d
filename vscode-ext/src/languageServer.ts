// The language server's lifecycle: find its command (launch.ts), start `dlm lsp`
// through vscode-languageclient, stop and restart it, and keep its state. A failure
// to find or start it, or a server that stops, is reported once, with the command
// and the fix (`showProblem`). The status bar listens to the state and to the
// server's work-done progress; the commands ask `ready()` before they use it.
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  State,
  type LanguageClientOptions,
} from 'vscode-languageclient/node';

import { describeError } from './errors';
import { discover, executableOptions } from './launch';
import { workDoneValue, type ServerState, type Token, type WorkDoneValue } from './progress';
import { describeServerCommand, type ServerCommand } from './serverCommand';
import { configurationPayload, type ServerOptions } from './settings';

/** One work-done `$/progress` notification from the server. */
export interface ProgressEvent {
  token: Token;
  value: WorkDoneValue;
}

/** Starts, stops and restarts `dlm lsp`; knows whether it runs and, if not, why. */
export class LanguageServer implements vscode.Disposable {
  private current: LanguageClient | undefined;
  private command: ServerCommand | undefined;
  private problemText: string | undefined;
  private currentState: ServerState = 'stopped';
  private stopping = false;
  private readonly stateChanged = new vscode.EventEmitter<void>();
  private readonly progressed = new vscode.EventEmitter<ProgressEvent>();
  private readonly disposables: vscode.Disposable[] = [];

  /** Fires when the state changes (and with it the problem or the command). */
  readonly onDidChangeState = this.stateChanged.event;
  /** Fires for each work-done progress value the server sends, before the client handles it. */
  readonly onDidReportProgress = this.progressed.event;

  /**
   * @param output the `dlm` output channel, which also gets the server's log
   * @param initializationOptions the settings to start the server with, read at each start
   */
  constructor(
    private readonly output: vscode.OutputChannel,
    private readonly initializationOptions: () => ServerOptions,
  ) {
    this.disposables.push(
      this.stateChanged,
      this.progressed,
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('dlm.server.command')) {
          void this.restart();
        }
      }),
      // Trust lets discovery use `uv run`, and a new folder may be the dlm project.
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.retryIfFailed()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.retryIfFailed()),
    );
  }

  get state(): ServerState {
    return this.currentState;
  }

  /** The client while one exists (starting, running, or stopping on its own). */
  get client(): LanguageClient | undefined {
    return this.current;
  }

  /** The command the server was last started with; undefined when none was found. */
  get serverCommand(): ServerCommand | undefined {
    return this.command;
  }

  /** The line under the state in the status bar: the problem, else the command. */
  detail(): string {
    return this.problemText ?? (this.command !== undefined ? describeServerCommand(this.command) : '');
  }

  /** Find the server command and start the client; on failure, say why and how to fix it. */
  async start(): Promise<void> {
    const discovery = discover({
      configured: vscode.workspace.getConfiguration('dlm').get<unknown>('server.command'),
      folders: vscode.workspace.workspaceFolders,
      trusted: vscode.workspace.isTrusted,
    });
    if (!discovery.ok) {
      this.command = undefined;
      this.fail(discovery.message);
      return;
    }
    const server = discovery.server;
    this.command = server;
    this.problemText = undefined;
    this.output.appendLine(`Starting the language server: ${describeServerCommand(server)}`);

    const client = new LanguageClient('dlm', 'dlm language server', executableOptions(server), this.clientOptions());
    let started = false;
    client.onDidChangeState((event) => {
      if (event.newState === State.Running) {
        this.problemText = undefined; // also after vscode-languageclient restarted a crashed server
        this.setState('running');
      } else if (event.newState === State.Starting) {
        this.setState('starting');
      } else if (started && !this.stopping && this.current === client) {
        // A stop during start() is reported by its catch below.
        this.fail(`The language server stopped (${describeServerCommand(server)}). See the dlm output for its log.`);
      }
    });
    this.current = client;
    this.setState('starting');
    try {
      await client.start();
      started = true;
    } catch (error) {
      if (this.current === client) {
        this.fail(
          `The language server did not start: ${describeError(error)}. Command: ${describeServerCommand(server)}. ` +
            'Fix: check that this command runs `dlm lsp` from a terminal, or set `dlm.server.command`.',
        );
      }
    }
  }

  /** Stop the client (if any) without reporting it as a failure. */
  async stop(): Promise<void> {
    const client = this.current;
    this.current = undefined;
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

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Start again when the server is not running (after a change that may let it start). */
  retryIfFailed(): void {
    if (this.currentState === 'failed' || this.currentState === 'stopped') {
      void this.restart();
    }
  }

  /** Send new settings to a running (or starting) server; otherwise they wait for the next start. */
  sendSettings(options: ServerOptions): void {
    // While starting, vscode-languageclient holds the notification until the server is up.
    if (this.current !== undefined && (this.currentState === 'running' || this.currentState === 'starting')) {
      this.current
        .sendNotification(DidChangeConfigurationNotification.type, configurationPayload(options))
        .catch((error: unknown) => this.output.appendLine(`Sending the settings failed: ${describeError(error)}`));
    }
  }

  /** True when the server is running; otherwise tells the user why not. */
  async ready(): Promise<boolean> {
    if (this.current !== undefined && this.currentState === 'running') {
      return true;
    }
    if (this.currentState === 'starting') {
      void vscode.window.showInformationMessage('dlm: the language server is still starting; try again in a moment.');
      return false;
    }
    await this.showProblem();
    return false;
  }

  /** The reason the server is not running, with the ways out; the output when there is no problem. */
  async showProblem(): Promise<void> {
    if (this.problemText === undefined) {
      this.output.show(true);
      return;
    }
    const choice = await vscode.window.showErrorMessage(`dlm: ${this.problemText}`, 'Open Settings', 'Restart Server', 'Show Output');
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'dlm.server.command');
    } else if (choice === 'Restart Server') {
      await this.restart();
    } else if (choice === 'Show Output') {
      this.output.show(true);
    }
  }

  dispose(): void {
    void this.stop();
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }

  private clientOptions(): LanguageClientOptions {
    return {
      documentSelector: [
        { scheme: 'file', language: 'dlm' },
        { scheme: 'untitled', language: 'dlm' },
      ],
      initializationOptions: this.initializationOptions(),
      outputChannel: this.output,
      // The failure is reported once, by start(), with the command and the fix.
      initializationFailedHandler: (error) => {
        this.output.appendLine(`Initialization failed: ${describeError(error)}`);
        return false;
      },
      middleware: {
        handleWorkDoneProgress: (token, params, next) => {
          this.progressed.fire({ token, value: workDoneValue(params) });
          next(token, params);
        },
      },
    };
  }

  private fail(message: string): void {
    this.problemText = message;
    this.output.appendLine(message);
    this.setState('failed');
    void this.showProblem();
  }

  private setState(state: ServerState): void {
    this.currentState = state;
    this.stateChanged.fire();
  }
}
