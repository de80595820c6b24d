// The extension's entry points. Activation puts the parts together, each a module
// with one job: the settings the server reads (settingsSync.ts), the server's
// lifecycle (languageServer.ts), the status bar (statusBar.ts), Train on Save
// (trainWatchRunner.ts) and the commands (commands.ts). The decisions they take
// live in modules without `vscode` (settings, trust, serverCommand, launch,
// progress, trainWatch, commandLines, codeActions).
import * as vscode from 'vscode';

import { registerCommands } from './commands';
import { LanguageServer } from './languageServer';
import { SettingsSync } from './settingsSync';
import { StatusBar } from './statusBar';
import { TrainWatch } from './trainWatchRunner';

let server: LanguageServer | undefined;

/** VS Code entry point: called when a `.dlm` document opens. */
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('dlm');
  const settings = new SettingsSync(output);
  const lsp = new LanguageServer(output, () => settings.read(true));
  const statusBar = new StatusBar(lsp);
  const trainWatch = new TrainWatch(output);
  context.subscriptions.push(
    trainWatch,
    settings.onDidChange((options) => lsp.sendSettings(options)),
    statusBar,
    lsp,
    settings,
    output,
  );
  registerCommands(context, { server: lsp, statusBar, output, trainWatch });
  server = lsp;
  // Not awaited: a first `uv run` may take minutes to set up its environment, and
  // activation should not wait for it. The status bar shows the server starting.
  void lsp.start();
}

/** VS Code exit point: stops the server. */
export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
