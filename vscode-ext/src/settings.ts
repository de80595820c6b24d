// VS Code settings (`dlm.*`) -> the language server's options (the keys of
// `initializationOptions` and `workspace/didChangeConfiguration`, see lsp/server.py).
// A value of the wrong type or out of range is replaced by the default and named
// in a problem message; the server applies the same rules again on its side.

/** The options the server reads, under the names it reads them. */
export interface ServerOptions {
  diagnosticsDelay: number;
  judge: string;
  samples: number;
  /** null: the judge's own default threshold. */
  threshold: number | null;
  /** null: keep every mined pair. */
  maxPairs: number | null;
  /** `api:` judges: the OpenAI-compatible API base; null: none. */
  judgeUrl: string | null;
  /** `api:` judges: the rubric file; null: the default rubric. */
  rubric: string | null;
}

/** The raw values of the `dlm.*` settings, as VS Code returns them. */
export interface RawSettings {
  diagnosticsDelay?: unknown;
  judge?: unknown;
  samples?: unknown;
  threshold?: unknown;
  maxPairs?: unknown;
  judgeUrl?: unknown;
  rubric?: unknown;
}

/** The setting keys, relative to the `dlm` section, that reach the server. */
export const SERVER_SETTING_KEYS = ['diagnosticsDelay', 'judge', 'samples', 'threshold', 'maxPairs', 'judgeUrl', 'rubric'] as const;

/** The server's defaults (lsp/server.py `Settings`). */
export const DEFAULT_OPTIONS: Readonly<ServerOptions> = Object.freeze({
  diagnosticsDelay: 0.2,
  judge: 'sway',
  samples: 4,
  threshold: null,
  maxPairs: null,
  judgeUrl: null,
  rubric: null,
});

/** Options for the server plus one message per rejected or doubtful value. */
export interface SettingsResult {
  options: ServerOptions;
  problems: string[];
}

const JUDGE_FORMS =
  '`sway`, `sway:logprob`, `hf:<model>`, `prm:<model>`, `reward`, `ensemble:<file.yaml>`, `py:<module>:<Class>`, `api:<model>` or `cli:<command>`';

/** Validate raw `dlm.*` settings and map them to the server's options. */
export function serverOptions(raw: RawSettings): SettingsResult {
  const problems: string[] = [];
  const options: ServerOptions = { ...DEFAULT_OPTIONS };

  if (raw.diagnosticsDelay !== undefined && raw.diagnosticsDelay !== null) {
    if (isFiniteNumber(raw.diagnosticsDelay) && raw.diagnosticsDelay >= 0) {
      options.diagnosticsDelay = raw.diagnosticsDelay;
    } else {
      problems.push(rejected('dlm.diagnosticsDelay', raw.diagnosticsDelay, 'a number of seconds, 0 or more', String(DEFAULT_OPTIONS.diagnosticsDelay)));
    }
  }

  if (raw.judge !== undefined && raw.judge !== null) {
    if (typeof raw.judge === 'string' && raw.judge.trim() !== '') {
      options.judge = raw.judge.trim();
      if (!isKnownJudge(options.judge)) {
        problems.push(`\`dlm.judge\` is ${JSON.stringify(options.judge)}, which is not a judge dlm knows (${JUDGE_FORMS}); mining will fail until it is fixed.`);
      }
    } else {
      problems.push(rejected('dlm.judge', raw.judge, JUDGE_FORMS, JSON.stringify(DEFAULT_OPTIONS.judge)));
    }
  }

  if (raw.samples !== undefined && raw.samples !== null) {
    if (isFiniteNumber(raw.samples) && Number.isInteger(raw.samples) && raw.samples >= 2) {
      options.samples = raw.samples;
    } else {
      problems.push(rejected('dlm.samples', raw.samples, 'a whole number, 2 or more', String(DEFAULT_OPTIONS.samples)));
    }
  }

  if (raw.threshold !== undefined && raw.threshold !== null) {
    if (isFiniteNumber(raw.threshold) && raw.threshold >= 0) {
      options.threshold = raw.threshold;
    } else {
      problems.push(rejected('dlm.threshold', raw.threshold, "a number, 0 or more, or empty for the judge's default", 'the judge\'s default'));
    }
  }

  if (raw.maxPairs !== undefined && raw.maxPairs !== null) {
    if (isFiniteNumber(raw.maxPairs) && Number.isInteger(raw.maxPairs) && raw.maxPairs >= 1) {
      options.maxPairs = raw.maxPairs;
    } else {
      problems.push(rejected('dlm.maxPairs', raw.maxPairs, 'a whole number, 1 or more, or empty to keep every pair', 'no limit'));
    }
  }

  for (const key of ['judgeUrl', 'rubric'] as const) {
    const value = raw[key];
    if (value === undefined || value === null || value === '') {
      continue;
    }
    if (typeof value === 'string' && value.trim() !== '') {
      options[key] = value.trim();
    } else {
      problems.push(rejected(`dlm.${key}`, value, 'a text value, or empty', 'none'));
    }
  }
  if (options.judgeUrl !== null && !/^https?:\/\/\S+$/.test(options.judgeUrl)) {
    problems.push(`\`dlm.judgeUrl\` is ${JSON.stringify(options.judgeUrl)}; it must be an http:// or https:// URL such as http://127.0.0.1:8080/v1.`);
  }
  if (options.judge.startsWith('api:') && options.judgeUrl === null) {
    problems.push('`dlm.judge` is an `api:` judge, which needs `dlm.judgeUrl` (the API base of an OpenAI-compatible server); mining will fail until it is set.');
  }
  return { options, problems };
}

/** Whether `judge` has one of the selector forms the miner accepts (docs/judges.md). */
export function isKnownJudge(judge: string): boolean {
  return ['sway', 'sway:logprob', 'reward'].includes(judge) || /^(?:hf|prm|ensemble|py|api|cli):\S/.test(judge);
}

/** The `didChangeConfiguration` payload the server reads (its keys under `dlm`). */
export function configurationPayload<T extends ServerOptions>(options: T): { settings: { dlm: T } } {
  return { settings: { dlm: { ...options } } };
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function rejected(key: string, value: unknown, expected: string, fallback: string): string {
  return `\`${key}\` must be ${expected}; got ${JSON.stringify(value)}. Using ${fallback}.`;
}
