// Train on Save: one `dlm train PATH --watch --progress jsonl` child process at a time,
// its output in the dlm output channel and its state in a status bar item of its own
// (what the item shows is decided in trainWatch.ts). Stopping sends it Ctrl-C (SIGINT):
// while it waits it exits at once; during a run the run is interrupted and writes no
// adapter version, as with Ctrl-C in a terminal.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as vscode from 'vscode';

import { startedWatch, watchUpdate, watchView, type WatchStatus } from './trainWatch';

/** How long the item keeps showing a stopped watch, in milliseconds. */
const STOPPED_VISIBLE_MS = 8000;

/** The argument vector and working directory of one watch. */
export interface WatchLaunch {
  argv: string[];
  cwd: string;
  documentPath: string;
}

/** Runs Train on Save and keeps its status bar item. */
export class TrainWatch implements vscode.Disposable {
  private item: vscode.StatusBarItem | undefined;
  private child: ChildProcess | undefined;
  private status: WatchStatus = startedWatch();
  private name = '';
  private hideTimer: ReturnType<typeof setTimeout> | undefined;
  private stopping = false;

  constructor(private readonly output: vscode.OutputChannel) {}

  /** Whether a watch is running, and on which document. */
  running(): string | undefined {
    return this.child !== undefined ? this.name : undefined;
  }

  /** Start watching (stopping a watch already running first). */
  async start(launch: WatchLaunch): Promise<void> {
    await this.stop();
    this.name = path.basename(launch.documentPath);
    this.status = startedWatch();
    const [program, ...args] = launch.argv;
    if (program === undefined) {
      return;
    }
    this.output.appendLine(`Train on Save: ${launch.argv.join(' ')}`);
    const child = spawn(program, args, {
      cwd: launch.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: process.platform === 'win32' && /\.(?:cmd|bat)$/i.test(program),
    });
    this.child = child;
    this.stopping = false;
    readline.createInterface({ input: child.stdout! }).on('line', (line) => this.output.appendLine(line));
    readline.createInterface({ input: child.stderr! }).on('line', (line) => this.line(line));
    child.on('error', (error) => this.ended(child, `could not start: ${error.message}`));
    child.on('exit', (code, signal) => this.ended(child, signal !== null ? `ended by ${signal}` : `exited with ${code}`));
    this.render();
  }

  /** Stop the running watch (Ctrl-C) and wait for it to exit; false when none was running. */
  async stop(): Promise<boolean> {
    const child = this.child;
    if (child === undefined) {
      return false;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.stopping = true;
    child.kill('SIGINT');
    await exited;
    return true;
  }

  dispose(): void {
    if (this.hideTimer !== undefined) {
      clearTimeout(this.hideTimer);
    }
    this.child?.kill('SIGINT');
    this.child = undefined;
    this.item?.dispose();
  }

  private line(line: string): void {
    const next = watchUpdate(this.status, line);
    if (next === this.status) {
      this.output.appendLine(line);
      return;
    }
    if (next.message !== this.status.message) {
      this.output.appendLine(`Train on Save: ${next.message}`);
    }
    this.status = next;
    this.render();
  }

  private ended(child: ChildProcess, how: string): void {
    if (this.child !== child) {
      return;
    }
    this.child = undefined;
    const message = `dlm train --watch ${how}.`;
    this.output.appendLine(`Train on Save: ${message}`);
    if (!this.stopping && this.status.phase !== 'stopped') {
      void vscode.window.showWarningMessage(`dlm: Train on Save ${how}; see the dlm output.`);
    }
    this.status = { ...this.status, phase: 'stopped', message };
    this.render();
    this.hideTimer = setTimeout(() => {
      this.hideTimer = undefined;
      if (this.child === undefined) {
        this.item?.hide();
      }
    }, STOPPED_VISIBLE_MS);
  }

  private render(): void {
    if (this.hideTimer !== undefined && this.child !== undefined) {
      clearTimeout(this.hideTimer);
      this.hideTimer = undefined;
    }
    this.item ??= vscode.window.createStatusBarItem('dlm.trainOnSave', vscode.StatusBarAlignment.Left, 9);
    this.item.name = 'dlm Train on Save';
    const view = watchView(this.status, this.name);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.command;
    this.item.show();
  }
}
