// The status bar item: the server's state (starting, running, not running with the
// reason) and, while the server reports work-done progress (mining), its latest
// message and percentage. What it shows is decided in progress.ts; this module
// keeps the item in step with the server and the active editor.
import * as vscode from 'vscode';

import type { LanguageServer, ProgressEvent } from './languageServer';
import { FINISHED_VISIBLE_MS, ProgressBoard, statusBarView, type Token } from './progress';

/** What the status bar reads from the server. */
export type ServerView = Pick<LanguageServer, 'state' | 'detail' | 'onDidChangeState' | 'onDidReportProgress'>;

/** The `dlm` status bar item; shown for a `.dlm` editor and while a task runs. */
export class StatusBar implements vscode.Disposable {
  private readonly board = new ProgressBoard();
  private readonly item = vscode.window.createStatusBarItem('dlm.status', vscode.StatusBarAlignment.Left, 10);
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly server: ServerView) {
    this.item.name = 'dlm';
    this.disposables.push(
      this.item,
      server.onDidChangeState(() => this.render()),
      server.onDidReportProgress((event) => this.progress(event)),
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
    );
    this.render();
  }

  /** Tokens of the tasks still running, oldest first (for cancelling them). */
  runningTokens(): Token[] {
    return this.board.tokens();
  }

  dispose(): void {
    if (this.refreshTimer !== undefined) {
      clearTimeout(this.refreshTimer);
    }
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }

  private progress({ token, value }: ProgressEvent): void {
    this.board.update(token, value, Date.now());
    if (value.kind === 'end') {
      this.scheduleRefresh();
    }
    this.render();
  }

  /** Render again once a finished task's last message has had its time. */
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
    const view = statusBarView(this.server.state, progress, this.server.detail());
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.command;
    this.item.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    const dlmActive = vscode.window.activeTextEditor?.document.languageId === 'dlm';
    if (dlmActive || progress?.busy === true) {
      this.item.show();
    } else {
      this.item.hide();
    }
  }
}
