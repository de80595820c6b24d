// The commands the extension contributes (package.json `contributes.commands`) and
// the status bar's own. The loop's commands run the server's commands on the active
// `.dlm` document (mining through the server's "Mine preferences here" action at
// the cursor); Train and Show Metrics run `dlm` in a terminal with the server's
// command; Train on Save runs `dlm train PATH --watch` as a child process with its
// own status bar item (trainWatchRunner.ts). Each saves the document first, since
// dlm works on the file on disk, and an error becomes a message instead of a
// rejected command.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { WorkDoneProgressCancelNotification } from 'vscode-languageclient/node';

import { findCommand, NO_MINE_ACTION, SERVER_COMMANDS, type ActionLike } from './codeActions';
import { cliPrefix, commandLine, metricsArgv, shellKind, trainArgv, trainWatchArgv } from './commandLines';
import { describeError } from './errors';
import type { LanguageServer } from './languageServer';
import type { StatusBar } from './statusBar';
import type { TrainWatch } from './trainWatchRunner';

/** What the commands act through. */
export interface CommandDeps {
  server: LanguageServer;
  statusBar: Pick<StatusBar, 'runningTokens'>;
  output: vscode.OutputChannel;
  trainWatch: TrainWatch;
}

/** Register every command the extension contributes (and the status bar's own). */
export function registerCommands(context: vscode.ExtensionContext, deps: CommandDeps): void {
  const { server, output } = deps;
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
  register('dlm.mineAtCursor', () => mineAtCursor(server));
  register('dlm.applyStagedPairs', () => runServerCommand(server, SERVER_COMMANDS.apply));
  register('dlm.revertMinedSections', () => runServerCommand(server, SERVER_COMMANDS.revert));
  register('dlm.trainDocument', (uri?: vscode.Uri) => runInTerminal(server, 'train', uri));
  register('dlm.showMetrics', (uri?: vscode.Uri) => runInTerminal(server, 'metrics', uri));
  register('dlm.trainOnSave', (uri?: vscode.Uri) => trainOnSave(server, deps.trainWatch, uri));
  register('dlm.stopTrainOnSave', () => stopTrainOnSave(deps.trainWatch));
  register('dlm.cancelMining', () => cancelMining(deps));
  register('dlm.restartServer', () => server.restart());
  register('dlm.showOutput', () => output.show(true));
  register('dlm.showServerProblem', () => server.showProblem());
}

/** Run the server's "Mine preferences here" action for the instruction section at the cursor. */
async function mineAtCursor(server: LanguageServer): Promise<void> {
  const editor = dlmEditor();
  if (editor === undefined || !(await server.ready()) || !(await saved(editor.document))) {
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

/** Run a server command that takes the active document's URI (apply, revert). */
async function runServerCommand(server: LanguageServer, command: string): Promise<void> {
  const editor = dlmEditor();
  if (editor === undefined || !(await server.ready()) || !(await saved(editor.document))) {
    return;
  }
  await vscode.commands.executeCommand(command, editor.document.uri.toString());
}

/** The `dlm` command line prefix, the file and the working directory for a CLI command on `uri` (else the active document), saved first; undefined when it cannot run. */
async function cliTarget(server: LanguageServer, uri: vscode.Uri | undefined): Promise<{ prefix: string[]; file: string; cwd: string } | undefined> {
  const target = uri instanceof vscode.Uri ? uri : dlmEditor()?.document.uri;
  if (target === undefined) {
    return undefined;
  }
  if (target.scheme !== 'file') {
    void vscode.window.showWarningMessage('dlm: save the document to a file first; dlm works on the file on disk.');
    return undefined;
  }
  const command = server.serverCommand;
  if (command === undefined) {
    await server.showProblem();
    return undefined;
  }
  const open = vscode.workspace.textDocuments.find((document) => document.uri.toString() === target.toString());
  if (open !== undefined && !(await saved(open))) {
    return undefined;
  }
  const cwd = command.cwd ?? vscode.workspace.getWorkspaceFolder(target)?.uri.fsPath ?? path.dirname(target.fsPath);
  return { prefix: cliPrefix(command), file: target.fsPath, cwd };
}

/** Run `dlm train|metrics PATH` in a new terminal, with the server's command as the `dlm` to run. */
async function runInTerminal(server: LanguageServer, verb: 'train' | 'metrics', uri: vscode.Uri | undefined): Promise<void> {
  const target = await cliTarget(server, uri);
  if (target === undefined) {
    return;
  }
  const argv = verb === 'train' ? trainArgv(target.prefix, target.file) : metricsArgv(target.prefix, target.file);
  const terminal = vscode.window.createTerminal({ name: `dlm ${verb} ${path.basename(target.file)}`, cwd: target.cwd });
  terminal.show();
  terminal.sendText(commandLine(argv, shellKind(vscode.env.shell, process.platform)), true);
}

/** Start `dlm train PATH --watch` as a child process, its state in the status bar (one watch at a time). */
async function trainOnSave(server: LanguageServer, watch: TrainWatch, uri: vscode.Uri | undefined): Promise<void> {
  const target = await cliTarget(server, uri);
  if (target !== undefined) {
    await watch.start({ argv: trainWatchArgv(target.prefix, target.file), cwd: target.cwd, documentPath: target.file });
  }
}

/** Stop Train on Save (Ctrl-C to the process). */
async function stopTrainOnSave(watch: TrainWatch): Promise<void> {
  if (!(await watch.stop())) {
    void vscode.window.showInformationMessage('dlm: Train on Save is not running.');
  }
}

/** Ask the server to cancel every running task (work-done cancel). */
function cancelMining({ server, statusBar, output }: CommandDeps): void {
  const tokens = statusBar.runningTokens();
  const client = server.client;
  if (client === undefined || tokens.length === 0) {
    void vscode.window.showInformationMessage('dlm: nothing is being mined.');
    return;
  }
  for (const token of tokens) {
    client
      .sendNotification(WorkDoneProgressCancelNotification.type, { token })
      .catch((error: unknown) => output.appendLine(`Cancelling failed: ${describeError(error)}`));
  }
}

/** The active editor when it shows a `.dlm` document; otherwise says to open one. */
function dlmEditor(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor?.document.languageId === 'dlm') {
    return editor;
  }
  void vscode.window.showInformationMessage('dlm: open a .dlm document first.');
  return undefined;
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
