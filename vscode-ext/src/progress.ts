// The status bar's contents: the server's state, and the work-done progress the
// server reports (`$/progress`; mining relays the miner's `--progress jsonl` lines).

/** One `$/progress` value of the work-done kind (LSP `WorkDoneProgressBegin/Report/End`). */
export type WorkDoneValue =
  | { kind: 'begin'; title: string; message?: string; percentage?: number; cancellable?: boolean }
  | { kind: 'report'; message?: string; percentage?: number; cancellable?: boolean }
  | { kind: 'end'; message?: string };

/** A `$/progress` value as it arrives from the server, before it is checked. */
export interface WorkDoneParams {
  kind: string;
  title?: string;
  message?: string;
  percentage?: number;
  cancellable?: boolean;
}

/** The work-done value of `params`, with only the fields its kind has (an unknown kind ends the task). */
export function workDoneValue(params: WorkDoneParams): WorkDoneValue {
  const extra = {
    ...(params.message !== undefined ? { message: params.message } : {}),
    ...(params.percentage !== undefined ? { percentage: params.percentage } : {}),
  };
  const cancellable = params.cancellable !== undefined ? { cancellable: params.cancellable } : {};
  if (params.kind === 'begin') {
    return { kind: 'begin', title: params.title ?? 'Working', ...extra, ...cancellable };
  }
  if (params.kind === 'report') {
    return { kind: 'report', ...extra, ...cancellable };
  }
  return { kind: 'end', ...(params.message !== undefined ? { message: params.message } : {}) };
}

/** A progress token as LSP defines it. */
export type Token = string | number;

/** What the status bar shows about progress at one moment. */
export interface ProgressView {
  busy: boolean;
  /** The token of the most recent running task (for cancelling), when busy. */
  token?: Token;
  cancellable: boolean;
  /** Short text: the latest message and percentage. */
  text: string;
  /** Longer text for the tooltip. */
  detail: string;
}

interface Running {
  title: string;
  message: string;
  percentage: number | undefined;
  cancellable: boolean;
}

/** How long a finished task's last message stays in the status bar, in milliseconds. */
export const FINISHED_VISIBLE_MS = 8000;
const MAX_TEXT = 48;

/** Tracks the running work-done tasks and the last one that ended. */
export class ProgressBoard {
  private readonly running = new Map<Token, Running>();
  private finished: { title: string; message: string; at: number } | undefined;

  /** Record one `$/progress` value for `token` at time `now` (milliseconds). */
  update(token: Token, value: WorkDoneValue, now: number): void {
    if (value.kind === 'begin') {
      this.running.set(token, {
        title: value.title,
        message: value.message ?? '',
        percentage: clampPercentage(value.percentage),
        cancellable: value.cancellable === true,
      });
      return;
    }
    const task = this.running.get(token);
    if (value.kind === 'report') {
      if (task === undefined) {
        return;
      }
      if (value.message !== undefined) {
        task.message = value.message;
      }
      if (value.percentage !== undefined) {
        task.percentage = clampPercentage(value.percentage);
      }
      if (value.cancellable !== undefined) {
        task.cancellable = value.cancellable;
      }
      return;
    }
    this.running.delete(token);
    this.finished = { title: task?.title ?? 'Task', message: value.message ?? 'done', at: now };
  }

  /** Tokens of the tasks still running, oldest first. */
  tokens(): Token[] {
    return [...this.running.keys()];
  }

  /** What to show at time `now`; undefined when there is nothing to report. */
  view(now: number): ProgressView | undefined {
    const tasks = [...this.running.entries()];
    const latest = tasks[tasks.length - 1];
    if (latest !== undefined) {
      const [token, task] = latest;
      const percent = task.percentage !== undefined ? ` ${task.percentage}%` : '';
      const more = tasks.length > 1 ? ` (+${tasks.length - 1})` : '';
      const text = truncate(`${task.message || task.title}`) + percent + more;
      const lines = tasks.map(([, each]) => describe(each));
      return { busy: true, token, cancellable: task.cancellable, text, detail: lines.join('\n') };
    }
    if (this.finished !== undefined && now - this.finished.at < FINISHED_VISIBLE_MS) {
      return {
        busy: false,
        cancellable: false,
        text: truncate(this.finished.message),
        detail: `${this.finished.title}: ${this.finished.message}`,
      };
    }
    return undefined;
  }
}

/** The language server's lifecycle, as the status bar shows it. */
export type ServerState = 'starting' | 'running' | 'stopped' | 'failed';

/** The status bar item: text, tooltip, the command a click runs, whether it shows an error. */
export interface StatusBarView {
  text: string;
  tooltip: string;
  command: string;
  error: boolean;
}

/** The status bar item for a server state, a progress view and a detail line (e.g. the command). */
export function statusBarView(state: ServerState, progress: ProgressView | undefined, detail: string): StatusBarView {
  if (progress?.busy === true && state === 'running') {
    const cancel = progress.cancellable ? '\n\nClick to cancel.' : '';
    return {
      text: `$(sync~spin) dlm: ${progress.text}`,
      tooltip: `${progress.detail}${cancel}`,
      command: progress.cancellable ? 'dlm.cancelMining' : 'dlm.showOutput',
      error: false,
    };
  }
  switch (state) {
    case 'starting':
      return { text: '$(loading~spin) dlm', tooltip: `dlm language server: starting\n${detail}`, command: 'dlm.showOutput', error: false };
    case 'running': {
      const text = progress !== undefined ? `$(check) dlm: ${progress.text}` : '$(check) dlm';
      const last = progress !== undefined ? `\n${progress.detail}` : '';
      return {
        text,
        tooltip: `dlm language server: running\n${detail}${last}\n\nClick to show its output.`,
        command: 'dlm.showOutput',
        error: false,
      };
    }
    case 'stopped':
      return { text: '$(circle-slash) dlm', tooltip: `dlm language server: stopped\n${detail}\n\nClick to start it again.`, command: 'dlm.restartServer', error: false };
    case 'failed':
      return { text: '$(error) dlm', tooltip: `dlm language server: not running\n${detail}\n\nClick for the fix.`, command: 'dlm.showServerProblem', error: true };
  }
}

function describe(task: Running): string {
  const percent = task.percentage !== undefined ? ` (${task.percentage}%)` : '';
  return task.message ? `${task.title}: ${task.message}${percent}` : `${task.title}${percent}`;
}

function clampPercentage(value: number | undefined): number | undefined {
  if (value === undefined || !Number.isFinite(value)) {
    return undefined;
  }
  return Math.round(Math.min(100, Math.max(0, value)));
}

function truncate(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT - 1)}…` : flat;
}
