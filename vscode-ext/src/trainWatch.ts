// Train on Save: what the status bar shows about a `dlm train PATH --watch --progress
// jsonl` process, read from the JSON lines it writes on stderr (dlm/progress.py): the
// "watch" stage events (waiting, changed, unchanged, invalid, training, trained with
// the adapter version, failed, stopped) and the training steps ("train" stage). No
// `vscode` import: trainWatchRunner.ts starts the process and owns the item.

/** The watch's state as the status bar shows it. */
export type WatchPhase = 'starting' | 'waiting' | 'training' | 'invalid' | 'failed' | 'stopped';

/** What is known about a running watch. */
export interface WatchStatus {
  phase: WatchPhase;
  /** The adapter version the last run wrote, once one has. */
  version?: string;
  /** Steps of the run in progress, as `3/40`. */
  steps?: string;
  /** The watch's last message. */
  message: string;
}

/** The status bar item for a watch: text, tooltip, the command a click runs. */
export interface WatchView {
  text: string;
  tooltip: string;
  command: string;
}

/** The status of a watch that has just been started. */
export function startedWatch(): WatchStatus {
  return { phase: 'starting', message: 'Starting dlm train --watch' };
}

/** The status after one line of the process's stderr (lines that are not its JSON change nothing). */
export function watchUpdate(status: WatchStatus, line: string): WatchStatus {
  const event = parseEvent(line);
  if (event === undefined) {
    return status;
  }
  if (event.stage === 'train') {
    const steps = event.event === 'progress' && status.phase === 'training' ? `${event.done}/${event.total}` : status.steps;
    return steps !== undefined ? { ...status, steps } : status;
  }
  const phase = event.stage === 'watch' ? nextPhase(status.phase, event.event) : undefined;
  if (phase === undefined) {
    return status;
  }
  // "waiting" and "changed" are routine: the tooltip keeps the last run's message.
  const routine = (event.event === 'waiting' || event.event === 'changed') && status.phase !== 'starting';
  const next: WatchStatus = { phase, message: routine ? status.message : event.message };
  const version = event.event === 'trained' && event.version !== undefined ? event.version : status.version;
  return version !== undefined ? { ...next, version } : next;
}

/** The phase after a "watch" event; undefined for an event this version does not know. */
function nextPhase(current: WatchPhase, event: string): WatchPhase | undefined {
  switch (event) {
    case 'waiting':
      // Still waiting on a document with errors, or after a failed run: keep saying so.
      return current === 'invalid' || current === 'failed' ? current : 'waiting';
    case 'changed':
      return current === 'starting' ? 'waiting' : current;
    case 'unchanged':
    case 'trained':
      return 'waiting';
    case 'invalid':
    case 'training':
    case 'failed':
    case 'stopped':
      return event;
    default:
      return undefined;
  }
}

/** The status bar item for `status` of the watch on the document named `name`. */
export function watchView(status: WatchStatus, name: string): WatchView {
  const version = status.version !== undefined ? ` ${status.version}` : '';
  const tooltip = `dlm train --watch ${name}\n${status.message}\n\nClick to stop watching.`;
  const command = 'dlm.stopTrainOnSave';
  switch (status.phase) {
    case 'starting':
      return { text: `$(loading~spin) dlm watch`, tooltip, command };
    case 'waiting':
      return { text: `$(eye) dlm watch${version}`, tooltip, command };
    case 'training': {
      const steps = status.steps !== undefined ? ` ${status.steps}` : '';
      return { text: `$(sync~spin) dlm training${steps}`, tooltip, command };
    }
    case 'invalid':
      return { text: `$(warning) dlm watch: errors`, tooltip, command };
    case 'failed':
      return { text: `$(error) dlm watch: failed`, tooltip, command };
    case 'stopped':
      return { text: `$(eye-closed) dlm watch stopped${version}`, tooltip: `dlm train --watch ${name}\n${status.message}`, command: 'dlm.showOutput' };
  }
}

interface Event {
  event: string;
  stage: string;
  done: number;
  total: number;
  message: string;
  version?: string;
}

function parseEvent(line: string): Event | undefined {
  if (!line.startsWith('{')) {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const record = value as Record<string, unknown>;
  if (typeof record['event'] !== 'string' || typeof record['stage'] !== 'string') {
    return undefined;
  }
  return {
    event: record['event'],
    stage: record['stage'],
    done: typeof record['done'] === 'number' ? record['done'] : 0,
    total: typeof record['total'] === 'number' ? record['total'] : 0,
    message: typeof record['message'] === 'string' ? record['message'] : '',
    ...(typeof record['version'] === 'string' ? { version: record['version'] } : {}),
  };
}
