// Does a workspace's pyproject.toml make `uv run dlm` work there? It does when
// the project is dlm itself or declares a dependency on it.
import { parse } from 'smol-toml';

/** The distribution name of dlm on the Python side (`[project] name`). */
export const DLM_DISTRIBUTION = 'dlm-toolkit';

/** Why a pyproject.toml qualifies, or why it does not. */
export type PyprojectVerdict =
  | { uses: true; reason: string }
  | { uses: false; reason: string };

/** Whether `text` (a pyproject.toml) is the dlm project or depends on it, and why. */
export function pyprojectUsesDlm(text: string): PyprojectVerdict {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { uses: false, reason: `pyproject.toml is not valid TOML (${detail})` };
  }
  const project = table(table(document)?.['project']);
  const name = project?.['name'];
  if (typeof name === 'string' && normaliseName(name) === DLM_DISTRIBUTION) {
    return { uses: true, reason: `pyproject.toml is the ${DLM_DISTRIBUTION} project` };
  }
  for (const [where, requirement] of requirements(document)) {
    if (requirementName(requirement) === DLM_DISTRIBUTION) {
      return { uses: true, reason: `pyproject.toml depends on ${DLM_DISTRIBUTION} (${where})` };
    }
  }
  return { uses: false, reason: `pyproject.toml neither is nor depends on ${DLM_DISTRIBUTION}` };
}

/** A package name in PEP 503 normal form: lower case, runs of `-_.` as one `-`. */
export function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/[-_.]+/g, '-');
}

/** The normalised distribution name a PEP 508 requirement string starts with. */
export function requirementName(requirement: string): string | undefined {
  const match = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/.exec(requirement);
  return match?.[1] === undefined ? undefined : normaliseName(match[1]);
}

/** Every requirement string the file declares, with the table it came from. */
function requirements(document: unknown): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  const add = (where: string, list: unknown): void => {
    if (Array.isArray(list)) {
      for (const entry of list) {
        if (typeof entry === 'string') {
          found.push([where, entry]);
        }
      }
    }
  };
  const root = table(document);
  const project = table(root?.['project']);
  add('[project] dependencies', project?.['dependencies']);
  for (const [extra, list] of Object.entries(table(project?.['optional-dependencies']) ?? {})) {
    add(`[project.optional-dependencies] ${extra}`, list);
  }
  for (const [group, list] of Object.entries(table(root?.['dependency-groups']) ?? {})) {
    add(`[dependency-groups] ${group}`, list);
  }
  add('[tool.uv] dev-dependencies', table(table(root?.['tool'])?.['uv'])?.['dev-dependencies']);
  return found;
}

function table(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
