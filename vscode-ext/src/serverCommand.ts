// Which command starts the language server: the `dlm.server.command` setting,
// else `dlm lsp` from PATH, else, in a workspace folder whose pyproject.toml is dlm or
// depends on it, the `dlm` of that project's synced `.venv` (so no start re-syncs it),
// or `uv run dlm lsp` before the first sync; otherwise a message that says how to fix it.
import { DLM_DISTRIBUTION, pyprojectUsesDlm } from './pyproject';

/** Where a server command came from. */
export type CommandSource = 'setting' | 'path' | 'venv' | 'uv';

/** A resolved server command: an executable, its arguments and where to run it. */
export interface ServerCommand {
  command: string;
  args: string[];
  cwd?: string;
  source: CommandSource;
}

/** A workspace folder as the discovery sees it. */
export interface WorkspaceFolderInfo {
  path: string;
  /** The text of `<path>/pyproject.toml`, when the file exists. */
  pyproject?: string | undefined;
  /** The `dlm` executable of `<path>/.venv`, when the project's environment has one. */
  venvDlm?: string | undefined;
}

/** Everything the discovery depends on, gathered by the caller. */
export interface DiscoveryInput {
  /** The raw value of `dlm.server.command`. */
  configured: unknown;
  /** PATH lookup: the full path of an executable, or undefined. */
  findExecutable: (name: string) => string | undefined;
  folders: WorkspaceFolderInfo[];
  /** Whether the workspace is trusted (`uv run` builds and runs the project's code). */
  trusted: boolean;
}

/** The outcome of discovery. */
export type Discovery = { ok: true; server: ServerCommand } | { ok: false; message: string };

/** The parsed `dlm.server.command` setting. */
export type CommandSetting =
  | { kind: 'auto' }
  | { kind: 'argv'; argv: [string, ...string[]] }
  | { kind: 'error'; message: string };

const SETTING_EXAMPLE = '["uv", "run", "--project", "/path/to/dlm", "dlm", "lsp"]';

/** Parse `dlm.server.command`: empty means automatic; a list or a shell-like string is a command. */
export function parseCommandSetting(value: unknown): CommandSetting {
  if (value === undefined || value === null) {
    return { kind: 'auto' };
  }
  let argv: string[];
  if (typeof value === 'string') {
    const words = splitCommandLine(value);
    if (typeof words === 'string') {
      return { kind: 'error', message: `\`dlm.server.command\` cannot be read: ${words}.` };
    }
    argv = words;
  } else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    argv = value as string[];
  } else {
    return {
      kind: 'error',
      message: `\`dlm.server.command\` must be a list of strings such as ${SETTING_EXAMPLE}, or one string; got ${JSON.stringify(value)}.`,
    };
  }
  if (argv.length === 0 || argv.every((word) => word.trim() === '')) {
    return { kind: 'auto' };
  }
  const [first, ...rest] = argv;
  if (first === undefined || first.trim() === '') {
    return { kind: 'error', message: '`dlm.server.command` starts with an empty program name.' };
  }
  return { kind: 'argv', argv: [first, ...rest] };
}

/**
 * Split a command line into words like a POSIX shell does for plain words,
 * single quotes, double quotes and backslashes (no variables, no globbing);
 * returns an error text for an unterminated quote.
 */
export function splitCommandLine(line: string): string[] | string {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let index = 0;
  while (index < line.length) {
    const char = line[index] as string;
    if (char === "'") {
      const close = line.indexOf("'", index + 1);
      if (close < 0) {
        return 'a single quote is not closed';
      }
      word += line.slice(index + 1, close);
      inWord = true;
      index = close + 1;
    } else if (char === '"') {
      index += 1;
      let closed = false;
      while (index < line.length) {
        const inner = line[index] as string;
        if (inner === '"') {
          closed = true;
          index += 1;
          break;
        }
        if (inner === '\\' && index + 1 < line.length && '"\\$`'.includes(line[index + 1] as string)) {
          word += line[index + 1];
          index += 2;
        } else {
          word += inner;
          index += 1;
        }
      }
      if (!closed) {
        return 'a double quote is not closed';
      }
      inWord = true;
    } else if (char === '\\' && index + 1 < line.length) {
      word += line[index + 1];
      inWord = true;
      index += 2;
    } else if (/\s/.test(char)) {
      if (inWord) {
        words.push(word);
        word = '';
        inWord = false;
      }
      index += 1;
    } else {
      word += char;
      inWord = true;
      index += 1;
    }
  }
  if (inWord) {
    words.push(word);
  }
  return words;
}

/** Decide how to start the server, or explain why it cannot be started and how to fix it. */
export function discoverServerCommand(input: DiscoveryInput): Discovery {
  const setting = parseCommandSetting(input.configured);
  const firstFolder = input.folders[0]?.path;
  if (setting.kind === 'error') {
    return { ok: false, message: `${setting.message} Fix it in Settings (dlm.server.command), or clear it to let the extension find \`dlm\`.` };
  }
  if (setting.kind === 'argv') {
    const [command, ...args] = setting.argv;
    return { ok: true, server: withCwd({ command, args, source: 'setting' }, firstFolder) };
  }

  const dlm = input.findExecutable('dlm');
  if (dlm !== undefined) {
    return { ok: true, server: withCwd({ command: dlm, args: ['lsp'], source: 'path' }, firstFolder) };
  }

  const project = input.folders.find(
    (folder) => folder.pyproject !== undefined && pyprojectUsesDlm(folder.pyproject).uses,
  );
  if (project !== undefined) {
    if (!input.trusted) {
      return {
        ok: false,
        message:
          `\`dlm\` is not on PATH. ${project.path} uses ${DLM_DISTRIBUTION}, but this workspace is not trusted, ` +
          'so the extension does not run `uv run dlm lsp` in it. Fix: trust the workspace ' +
          '(Workspaces: Manage Workspace Trust), or install dlm so that `dlm` is on PATH.',
      };
    }
    if (project.venvDlm !== undefined) {
      return { ok: true, server: { command: project.venvDlm, args: ['lsp'], cwd: project.path, source: 'venv' } };
    }
    const uv = input.findExecutable('uv');
    if (uv === undefined) {
      return {
        ok: false,
        message:
          `\`dlm\` is not on PATH, and ${project.path} uses ${DLM_DISTRIBUTION} but \`uv\` is not on PATH either. ` +
          'Fix: install uv (`pip install uv`), or set `dlm.server.command` to the full command, ' +
          `e.g. ${SETTING_EXAMPLE}.`,
      };
    }
    return { ok: true, server: { command: uv, args: ['run', 'dlm', 'lsp'], cwd: project.path, source: 'uv' } };
  }

  return {
    ok: false,
    message:
      'Cannot start the dlm language server: `dlm` is not on PATH, and no workspace folder has a ' +
      `pyproject.toml that is the dlm project or depends on ${DLM_DISTRIBUTION} (for \`uv run dlm lsp\`). ` +
      'Fix: install dlm so that `dlm` is on PATH (e.g. `uv tool install /path/to/dlm`), or set ' +
      `\`dlm.server.command\`, e.g. ${SETTING_EXAMPLE}. If dlm is installed but VS Code was started ` +
      "from a launcher that does not see your shell's PATH, give the full path to `dlm`.",
  };
}

/** A one-line description of a server command, for logs and tooltips. */
export function describeServerCommand(server: ServerCommand): string {
  const line = [server.command, ...server.args].map((word) => (/[\s"']/.test(word) ? JSON.stringify(word) : word)).join(' ');
  const where = server.cwd !== undefined ? ` in ${server.cwd}` : '';
  const why = {
    setting: 'from dlm.server.command',
    path: 'dlm found on PATH',
    venv: "the dlm project's .venv",
    uv: 'uv run in the dlm project',
  }[server.source];
  return `${line}${where} (${why})`;
}

function withCwd(server: ServerCommand, cwd: string | undefined): ServerCommand {
  return cwd === undefined ? server : { ...server, cwd };
}
