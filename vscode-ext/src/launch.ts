// Launching the server process from this machine: the inputs server-command
// discovery (serverCommand.ts) needs, read from the environment (PATH, executable
// bits, each workspace folder's pyproject.toml), and the process options
// vscode-languageclient starts the found command with. No `vscode` import: the
// caller passes VS Code's settings, folders and trust in, so the unit tests run it.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { discoverServerCommand, type Discovery, type ServerCommand, type WorkspaceFolderInfo } from './serverCommand';
import { findOnPath } from './which';

/** A workspace folder as VS Code gives it (structurally `vscode.WorkspaceFolder`). */
export interface FolderLike {
  uri: { scheme: string; fsPath: string };
}

/** What VS Code knows that discovery needs. */
export interface LaunchContext {
  /** The raw `dlm.server.command` setting. */
  configured: unknown;
  folders: readonly FolderLike[] | undefined;
  trusted: boolean;
}

/** The process options for `vscode-languageclient`'s `Executable`. */
export interface ExecutableOptions {
  command: string;
  args: string[];
  options: { cwd?: string; shell: boolean };
}

/** Find the server command for `context` on this machine (`env` and `platform` default to this process's). */
export function discover(context: LaunchContext, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Discovery {
  return discoverServerCommand({
    configured: context.configured,
    findExecutable: (name) =>
      findOnPath(name, {
        path: env['PATH'] ?? env['Path'],
        pathext: env['PATHEXT'],
        platform,
        isExecutable: (candidate) => isExecutable(candidate, platform),
      }),
    folders: workspaceFolders(context.folders),
    trusted: context.trusted,
  });
}

/** The local workspace folders with the text of their pyproject.toml, when they have one. */
export function workspaceFolders(folders: readonly FolderLike[] | undefined): WorkspaceFolderInfo[] {
  return (folders ?? [])
    .filter((folder) => folder.uri.scheme === 'file')
    .map((folder) => {
      const root = folder.uri.fsPath;
      let pyproject: string | undefined;
      try {
        pyproject = fs.readFileSync(path.join(root, 'pyproject.toml'), 'utf8');
      } catch {
        pyproject = undefined;
      }
      return { path: root, pyproject, venvDlm: venvDlm(root) };
    });
}

/** Whether `candidate` is a regular file this process may run (any file on Windows). */
export function isExecutable(candidate: string, platform: NodeJS.Platform = process.platform): boolean {
  try {
    if (!fs.statSync(candidate).isFile()) {
      return false;
    }
    if (platform !== 'win32') {
      fs.accessSync(candidate, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

/** How to start `server`: a .cmd or .bat launcher on Windows only runs through the shell. */
export function executableOptions(server: ServerCommand, platform: NodeJS.Platform = process.platform): ExecutableOptions {
  return {
    command: server.command,
    args: server.args,
    options: {
      ...(server.cwd !== undefined ? { cwd: server.cwd } : {}),
      shell: platform === 'win32' && /\.(?:cmd|bat)$/i.test(server.command),
    },
  };
}

/** `<root>/.venv`'s `dlm` executable, when the project's environment is synced. */
export function venvDlm(root: string, platform: NodeJS.Platform = process.platform): string | undefined {
  const candidate =
    platform === 'win32' ? path.join(root, '.venv', 'Scripts', 'dlm.exe') : path.join(root, '.venv', 'bin', 'dlm');
  return isExecutable(candidate, platform) ? candidate : undefined;
}
