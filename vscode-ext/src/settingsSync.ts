// The `dlm.*` settings the server reads, kept in step with VS Code's: read and
// checked (settings.ts) with the judge's trust options (trust.ts), a problem shown
// once per distinct set, and new options announced whenever a server setting
// changes or the user grants workspace trust (the server then runs the workspace's
// judge, whatever it is). `dlm.server.command` is not one of them: changing it
// restarts the server (languageServer.ts).
import * as vscode from 'vscode';

import { serverOptions, type RawSettings, type ServerOptions } from './settings';
import { trustOptions, type TrustOptions } from './trust';

/** The options the server gets: its settings, where the judge came from, and the workspace's trust. */
export type SyncedOptions = ServerOptions & TrustOptions;

/** Reads the server's settings and says when they changed. */
export class SettingsSync implements vscode.Disposable {
  private lastProblems = '';
  private readonly changed = new vscode.EventEmitter<SyncedOptions>();
  private readonly disposables: vscode.Disposable[] = [];

  /** Fires with the options read anew after a change. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly output: vscode.OutputChannel) {
    this.disposables.push(
      this.changed,
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('dlm') && !event.affectsConfiguration('dlm.server.command')) {
          this.changed.fire(this.read(true));
        }
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire(this.read(false))),
    );
  }

  /**
   * The server options from the `dlm.*` settings, with where the judge came from and
   * whether the workspace is trusted; with `showProblems`, each new set of problems
   * is logged and shown as a warning that opens the settings.
   */
  read(showProblems: boolean): SyncedOptions {
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
        this.warn(problem);
      }
    }
    this.lastProblems = joined;
    return { ...options, ...trustOptions(config.inspect('judge'), raw.judge, vscode.workspace.isTrusted) };
  }

  dispose(): void {
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }

  private warn(problem: string): void {
    this.output.appendLine(`Settings: ${problem}`);
    void vscode.window.showWarningMessage(`dlm: ${problem}`, 'Open Settings').then((choice) => {
      if (choice === 'Open Settings') {
        void vscode.commands.executeCommand('workbench.action.openSettings', '@ext:dlm-tools.dlm');
      }
    });
  }
}
