// Command lines for the terminal commands (`dlm train PATH`, `dlm metrics PATH`),
// quoted for the shell the terminal runs.
import type { ServerCommand } from './serverCommand';

/** Quoting families of the shells VS Code terminals commonly run. */
export type ShellKind = 'posix' | 'fish' | 'powershell' | 'cmd';

/** The quoting family of the shell at `shellPath` (VS Code's `env.shell`) on `platform`. */
export function shellKind(shellPath: string | undefined, platform: NodeJS.Platform): ShellKind {
  const base = (shellPath ?? '').split(/[\\/]/).pop()?.toLowerCase().replace(/\.exe$/, '') ?? '';
  if (base === 'pwsh' || base === 'powershell' || base.startsWith('pwsh-')) {
    return 'powershell';
  }
  if (base === 'cmd') {
    return 'cmd';
  }
  if (base === 'fish') {
    return 'fish';
  }
  if (base === '') {
    return platform === 'win32' ? 'powershell' : 'posix';
  }
  return 'posix';
}

// No leading `=` (zsh expands `=cmd`) or `%` (job and process specs).
const POSIX_SAFE = /^[A-Za-z0-9_@+:,./-][A-Za-z0-9_@%+=:,./-]*$/;
const POWERSHELL_SAFE = /^[A-Za-z0-9_:./\\-]+$/;
const CMD_SAFE = /^[A-Za-z0-9_:./\\=+-]+$/;

/** One argument quoted so that `shell` passes it to the program unchanged. */
export function quoteArgument(argument: string, shell: ShellKind): string {
  switch (shell) {
    case 'posix':
      return POSIX_SAFE.test(argument) ? argument : `'${argument.replace(/'/g, `'\\''`)}'`;
    case 'fish':
      return POSIX_SAFE.test(argument) ? argument : `'${argument.replace(/[\\']/g, '\\$&')}'`;
    case 'powershell':
      // PowerShell also reads the typographic single quotes as quotes: double them all.
      return POWERSHELL_SAFE.test(argument) && !argument.startsWith('-')
        ? argument
        : `'${argument.replace(/['\u2018\u2019\u201a\u201b]/g, '$&$&')}'`;
    case 'cmd':
      // Windows file names cannot hold `"`; for other text, `""` is the C runtime's escape.
      return CMD_SAFE.test(argument) ? argument : `"${argument.replace(/"/g, '""')}"`;
  }
}

/** A whole command line for `shell`: every argument quoted, the program made callable. */
export function commandLine(argv: readonly string[], shell: ShellKind): string {
  const quoted = argv.map((argument, index) =>
    // PowerShell options such as `--max-steps` are fine bare after the program.
    shell === 'powershell' && index > 0 && /^--?[A-Za-z][A-Za-z0-9-]*$/.test(argument)
      ? argument
      : quoteArgument(argument, shell),
  );
  if (shell === 'powershell' && quoted.length > 0 && quoted[0] !== argv[0]) {
    // A quoted program name is only a string to PowerShell: call it with `&`.
    return `& ${quoted.join(' ')}`;
  }
  return quoted.join(' ');
}

/** The `dlm` CLI prefix implied by the server command: everything before its `lsp`. */
export function cliPrefix(server: Pick<ServerCommand, 'command' | 'args'> | undefined): string[] {
  if (server === undefined) {
    return ['dlm'];
  }
  const argv = [server.command, ...server.args];
  const lsp = argv.lastIndexOf('lsp');
  return lsp > 0 ? argv.slice(0, lsp) : ['dlm'];
}

/** Argument vector for `dlm train PATH`. */
export function trainArgv(prefix: readonly string[], documentPath: string): string[] {
  return [...prefix, 'train', documentPath];
}

/** Argument vector for `dlm train PATH --watch --progress jsonl` (Train on Save). */
export function trainWatchArgv(prefix: readonly string[], documentPath: string): string[] {
  return [...prefix, 'train', documentPath, '--watch', '--progress', 'jsonl'];
}

/** Argument vector for `dlm metrics PATH`. */
export function metricsArgv(prefix: readonly string[], documentPath: string): string[] {
  return [...prefix, 'metrics', documentPath];
}
