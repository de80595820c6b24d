// Finding an executable on PATH, with the file-system check injected so the
// lookup is a pure function of its inputs.

/** What the lookup needs to know about the machine. */
export interface PathEnvironment {
  /** The PATH variable (`Path` on Windows is passed in here too). */
  path: string | undefined;
  /** PATHEXT on Windows; ignored elsewhere. */
  pathext?: string | undefined;
  platform: NodeJS.Platform;
  /** True when `candidate` is a file this user may execute. */
  isExecutable: (candidate: string) => boolean;
}

const WINDOWS_DEFAULT_PATHEXT = '.COM;.EXE;.BAT;.CMD';

/** The full path of the first `name` on PATH that is executable, or undefined. */
export function findOnPath(name: string, env: PathEnvironment): string | undefined {
  const windows = env.platform === 'win32';
  const separator = windows ? '\\' : '/';
  if (name.includes('/') || (windows && name.includes('\\'))) {
    return env.isExecutable(name) ? name : undefined;
  }
  const directories = (env.path ?? '')
    .split(windows ? ';' : ':')
    .map((entry) => (windows ? entry.replace(/^"(.*)"$/, '$1') : entry))
    .filter((entry) => entry.length > 0);
  const extensions = windows ? windowsExtensions(name, env.pathext) : [''];
  for (const directory of directories) {
    const base = directory.endsWith(separator) ? directory + name : directory + separator + name;
    for (const extension of extensions) {
      if (env.isExecutable(base + extension)) {
        return base + extension;
      }
    }
  }
  return undefined;
}

/** The suffixes to try on Windows: none when `name` already has a PATHEXT one. */
function windowsExtensions(name: string, pathext: string | undefined): string[] {
  const known = (pathext && pathext.trim() ? pathext : WINDOWS_DEFAULT_PATHEXT)
    .split(';')
    .map((extension) => extension.trim())
    .filter((extension) => extension.startsWith('.'));
  const lower = name.toLowerCase();
  if (known.some((extension) => lower.endsWith(extension.toLowerCase()))) {
    return [''];
  }
  return known.map((extension) => extension.toLowerCase());
}
