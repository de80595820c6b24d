// Workspace trust, as the server needs it: whether the `dlm.judge` value in effect
// is one a workspace set, and whether the user trusts the workspace. The server
// refuses a judge that runs code (`cli:`, `py:`, ...) when it comes from an
// untrusted workspace (lsp/trust.py); VS Code itself already ignores a workspace's
// value of a restricted setting in restricted mode, and this is the second lock.

/** The fields of `WorkspaceConfiguration.inspect(key)` read here. */
export interface InspectedSetting {
  globalValue?: unknown;
  globalLanguageValue?: unknown;
  workspaceValue?: unknown;
  workspaceLanguageValue?: unknown;
  workspaceFolderValue?: unknown;
  workspaceFolderLanguageValue?: unknown;
}

/** The trust keys of the server's options (lsp/server.py `Settings`). */
export interface TrustOptions {
  judgeFromWorkspace: boolean;
  workspaceTrusted: boolean;
}

/**
 * Whether `effective` (the value in effect) is a workspace's value of the setting:
 * a workspace or folder level sets exactly it, and the user's own settings do not.
 */
export function valueFromWorkspace(inspected: InspectedSetting | undefined, effective: unknown): boolean {
  if (inspected === undefined || effective === undefined) {
    return false;
  }
  const workspace = [inspected.workspaceFolderLanguageValue, inspected.workspaceFolderValue, inspected.workspaceLanguageValue, inspected.workspaceValue];
  const user = [inspected.globalLanguageValue, inspected.globalValue];
  return workspace.some((value) => value !== undefined && value === effective) && !user.some((value) => value === effective);
}

/** The trust options for the judge setting as inspected, its effective value and the workspace's trust. */
export function trustOptions(inspected: InspectedSetting | undefined, judge: unknown, trusted: boolean): TrustOptions {
  return { judgeFromWorkspace: valueFromWorkspace(inspected, judge), workspaceTrusted: trusted };
}
