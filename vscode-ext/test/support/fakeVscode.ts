// A small fake of the `vscode` module, enough for src/extension.ts and
// vscode-languageclient to activate, start a server over stdio and exchange
// messages with it. Whatever it does not model is a harmless stub, so the code
// under test runs as in VS Code wherever the test looks.
import { pathToFileURL, fileURLToPath } from 'node:url';

type Listener<T> = (value: T) => unknown;

/** What the fake recorded, for the test to inspect. */
export interface Recorded {
  commands: Map<string, (...args: unknown[]) => unknown>;
  errors: string[];
  warnings: string[];
  infos: string[];
  statusItems: StatusItem[];
  output: string[];
  terminals: Array<{ name: string; cwd: unknown; sent: string[] }>;
  codeActionProviders: Array<{ provideCodeActions: (...args: unknown[]) => unknown }>;
  progressTitles: string[];
}

export interface StatusItem {
  text: string;
  tooltip: unknown;
  command: unknown;
  backgroundColor: unknown;
  visible: boolean;
}

/** Mutable state the test sets: settings, open editor, workspace. */
export interface FakeState {
  settings: Record<string, unknown>;
  folders: string[];
  activeDocument: FakeDocument | undefined;
  configurationListeners: Array<Listener<{ affectsConfiguration: (section: string) => boolean }>>;
  /** Values a workspace sets (`inspect().workspaceValue`); `settings` holds the values in effect. */
  workspaceSettings?: Record<string, unknown>;
  /** `workspace.isTrusted` (default true). */
  trusted?: boolean;
  trustListeners?: Array<Listener<void>>;
}

export interface FakeDocument {
  uri: FakeUri;
  languageId: string;
  version: number;
  isDirty: boolean;
  fileName: string;
  isClosed: boolean;
  text: string;
  saves: number;
}

export class FakeUri {
  constructor(
    readonly scheme: string,
    readonly fsPath: string,
  ) {}
  static file(path: string): FakeUri {
    return new FakeUri('file', path);
  }
  static parse(value: string): FakeUri {
    return value.startsWith('file:') ? new FakeUri('file', fileURLToPath(value)) : new FakeUri(value.split(':')[0] ?? '', value);
  }
  get path(): string {
    return this.fsPath;
  }
  toString(): string {
    return this.scheme === 'file' ? pathToFileURL(this.fsPath).href : this.fsPath;
  }
  with(): FakeUri {
    return this;
  }
}

class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(start: Position | number, end: Position | number, endLine?: number, endCharacter?: number) {
    if (typeof start === 'number' && typeof end === 'number') {
      this.start = new Position(start, end);
      this.end = new Position(endLine ?? start, endCharacter ?? end);
    } else {
      this.start = start as Position;
      this.end = end as Position;
    }
  }
}

class EventEmitter<T> {
  private listeners: Array<Listener<T>> = [];
  readonly event = (listener: Listener<T>) => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((each) => each !== listener)) };
  };
  fire(value: T): void {
    this.listeners.forEach((listener) => listener(value));
  }
  dispose(): void {
    this.listeners = [];
  }
}

class CodeActionKind {
  static readonly Empty = new CodeActionKind('');
  static readonly QuickFix = new CodeActionKind('quickfix');
  static readonly Source = new CodeActionKind('source');
  constructor(readonly value: string) {}
  append(part: string): CodeActionKind {
    return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
  }
  contains(other: CodeActionKind): boolean {
    return other.value === this.value || other.value.startsWith(`${this.value}.`);
  }
}

class CodeAction {
  command: unknown;
  constructor(
    readonly title: string,
    public kind?: CodeActionKind,
  ) {}
}

/** A stub for anything the fake does not model: callable, constructible, disposable. */
function stub(): unknown {
  const target = function () {
    return stub();
  };
  return new Proxy(target, {
    get: (_target, key) => {
      if (key === 'then') return undefined;
      if (key === 'dispose') return () => undefined;
      if (key === Symbol.iterator) return undefined;
      if (key === Symbol.toPrimitive) return () => '';
      return stub();
    },
    construct: () => stub() as object,
  });
}

function withStubs(target: Record<string, unknown>): Record<string, unknown> {
  return new Proxy(target, { get: (object, key) => (typeof key !== 'string' || key in object ? Reflect.get(object, key) : stub()) });
}

/** The fake module, and the records of what the code under test did with it. */
export function fakeVscode(state: FakeState): { vscode: unknown; recorded: Recorded } {
  const recorded: Recorded = {
    commands: new Map(),
    errors: [],
    warnings: [],
    infos: [],
    statusItems: [],
    output: [],
    terminals: [],
    codeActionProviders: [],
    progressTitles: [],
  };
  const disposable = { dispose: () => undefined };
  const event = () => disposable;
  const asTextDocument = (document: FakeDocument) => ({
    ...document,
    uri: document.uri,
    lineCount: document.text.split('\n').length,
    getText: () => document.text,
    save: async () => {
      document.saves += 1;
      document.isDirty = false;
      return true;
    },
  });
  const api: Record<string, unknown> = {
    version: '1.90.0',
    Uri: FakeUri,
    Position,
    Range,
    Selection: Range,
    EventEmitter,
    CodeAction,
    CodeActionKind,
    Disposable: class {
      static from(...items: Array<{ dispose(): unknown }>) {
        return { dispose: () => items.forEach((item) => item.dispose()) };
      }
      constructor(private readonly callback: () => unknown) {}
      dispose() {
        this.callback();
      }
    },
    ThemeColor: class {
      constructor(readonly id: string) {}
    },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
    env: { shell: '/bin/bash', language: 'en', appName: 'fake', machineId: 'fake', uiKind: 1 },
    commands: {
      registerCommand: (id: string, run: (...args: unknown[]) => unknown) => {
        if (recorded.commands.has(id)) {
          throw new Error(`command '${id}' already exists`);
        }
        recorded.commands.set(id, run);
        return { dispose: () => recorded.commands.delete(id) };
      },
      executeCommand: async (id: string, ...args: unknown[]) => {
        if (id === 'vscode.executeCodeActionProvider') {
          const [uri, range] = args as [FakeUri, Range];
          const document = state.activeDocument;
          if (document === undefined || document.uri.toString() !== uri.toString()) return [];
          const context = { diagnostics: [], only: undefined, triggerKind: 1 };
          const token = { isCancellationRequested: false, onCancellationRequested: event };
          const results = await Promise.all(
            recorded.codeActionProviders.map((provider) => provider.provideCodeActions(asTextDocument(document), range, context, token)),
          );
          return results.flatMap((result) => (Array.isArray(result) ? result : []));
        }
        const run = recorded.commands.get(id);
        return run === undefined ? undefined : run(...args);
      },
      getCommands: async () => [...recorded.commands.keys()],
    },
    languages: {
      match: (selector: unknown, document: { languageId: string; uri: FakeUri }) => {
        const filters = Array.isArray(selector) ? selector : [selector];
        return filters.some((filter: { language?: string; scheme?: string }) =>
          (filter.language === undefined || filter.language === document.languageId) &&
          (filter.scheme === undefined || filter.scheme === document.uri.scheme),
        )
          ? 10
          : 0;
      },
      registerCodeActionsProvider: (_selector: unknown, provider: Recorded['codeActionProviders'][number]) => {
        recorded.codeActionProviders.push(provider);
        return disposable;
      },
      createDiagnosticCollection: () => ({ set: () => undefined, delete: () => undefined, clear: () => undefined, dispose: () => undefined }),
    },
    window: {
      get activeTextEditor() {
        const document = state.activeDocument;
        if (document === undefined) return undefined;
        const cursor = new Position(2, 0);
        return { document: asTextDocument(document), selection: { active: cursor, anchor: cursor } };
      },
      visibleTextEditors: [],
      createOutputChannel: (name: string) => ({
        name,
        appendLine: (line: string) => recorded.output.push(line),
        append: (text: string) => recorded.output.push(text),
        replace: () => undefined,
        clear: () => undefined,
        show: () => undefined,
        hide: () => undefined,
        dispose: () => undefined,
      }),
      createStatusBarItem: () => {
        const item: StatusItem & { name: string; show(): void; hide(): void; dispose(): void } = {
          name: '',
          text: '',
          tooltip: undefined,
          command: undefined,
          backgroundColor: undefined,
          visible: false,
          show: () => {
            item.visible = true;
          },
          hide: () => {
            item.visible = false;
          },
          dispose: () => undefined,
        };
        recorded.statusItems.push(item);
        return item;
      },
      createTerminal: (options: { name: string; cwd: unknown }) => {
        const terminal = { name: options.name, cwd: options.cwd, sent: [] as string[] };
        recorded.terminals.push(terminal);
        return { show: () => undefined, sendText: (text: string) => terminal.sent.push(text), dispose: () => undefined };
      },
      withProgress: async (options: { title?: string }, task: (progress: unknown, token: unknown) => unknown) => {
        recorded.progressTitles.push(options.title ?? '');
        return task({ report: () => undefined }, { isCancellationRequested: false, onCancellationRequested: event });
      },
      showErrorMessage: async (message: string) => {
        recorded.errors.push(message);
        return undefined;
      },
      showWarningMessage: async (message: string) => {
        recorded.warnings.push(message);
        return undefined;
      },
      showInformationMessage: async (message: string) => {
        recorded.infos.push(message);
        return undefined;
      },
      onDidChangeActiveTextEditor: event,
      onDidChangeVisibleTextEditors: event,
      onDidChangeWindowState: event,
      state: { focused: true },
      tabGroups: { all: [], onDidChangeTabs: event, onDidChangeTabGroups: event },
    },
    workspace: {
      get workspaceFolders() {
        return state.folders.map((folder, index) => ({ uri: FakeUri.file(folder), name: folder, index }));
      },
      get isTrusted() {
        return state.trusted ?? true;
      },
      get textDocuments() {
        return state.activeDocument === undefined ? [] : [asTextDocument(state.activeDocument)];
      },
      getWorkspaceFolder: () => undefined,
      getConfiguration: (section?: string) => ({
        get: (key: string, fallback?: unknown) => {
          const value = state.settings[section ? `${section}.${key}` : key];
          return value === undefined ? fallback : value;
        },
        has: () => false,
        inspect: (key: string) => {
          const name = section ? `${section}.${key}` : key;
          const workspaceValue = state.workspaceSettings?.[name];
          return workspaceValue === undefined ? undefined : { key: name, workspaceValue };
        },
        update: async () => undefined,
      }),
      onDidChangeConfiguration: (listener: FakeState['configurationListeners'][number]) => {
        state.configurationListeners.push(listener);
        return disposable;
      },
      onDidGrantWorkspaceTrust: (listener: Listener<void>) => {
        (state.trustListeners ??= []).push(listener);
        return disposable;
      },
      onDidChangeWorkspaceFolders: event,
      onDidOpenTextDocument: event,
      onDidChangeTextDocument: event,
      onDidCloseTextDocument: event,
      onDidSaveTextDocument: event,
      onWillSaveTextDocument: event,
      onDidOpenNotebookDocument: event,
      onDidChangeNotebookDocument: event,
      onDidCloseNotebookDocument: event,
      onDidSaveNotebookDocument: event,
      notebookDocuments: [],
      createFileSystemWatcher: () => ({ onDidCreate: event, onDidChange: event, onDidDelete: event, dispose: () => undefined }),
    },
  };
  // Namespaces too: a member the fake does not model (a provider registration, say) is a stub.
  for (const namespace of ['commands', 'env', 'languages', 'window', 'workspace']) {
    api[namespace] = withStubs(api[namespace] as Record<string, unknown>);
  }
  const vscode = withStubs(api);
  return { vscode, recorded };
}
