// Picking the server's own commands out of the code actions at the cursor: the
// "mine preferences at cursor" command reuses the server's "Mine preferences here"
// action, which knows the instruction section and its id.

/**
 * The server's commands (lsp/features/loop.py, training.py, asking.py): the extension's
 * commands run some; the code lenses run the others. Their ids must not be the ids of
 * the extension's own commands, which the language client would refuse to register.
 */
export const SERVER_COMMANDS = {
  mine: 'dlm.minePreferences',
  apply: 'dlm.applyStaged',
  revert: 'dlm.revertMined',
  refresh: 'dlm.refreshStaged',
  train: 'dlm.trainAdapter',
  metrics: 'dlm.metricsSummary',
  ask: 'dlm.askAdapter',
  synthesize: 'dlm.synthesizeQuestions',
} as const;

/** A command as code-action providers return it (structurally `vscode.Command`). */
export interface CommandLike {
  title?: string;
  command: string;
  arguments?: unknown[];
}

/** A code action or a bare command, as `vscode.executeCodeActionProvider` returns them. */
export type ActionLike = { title?: string; command?: CommandLike | string; arguments?: unknown[] };

/** The first action whose command is `commandId`, as a command to execute; undefined if none. */
export function findCommand(actions: readonly ActionLike[] | undefined, commandId: string): CommandLike | undefined {
  for (const action of actions ?? []) {
    const command = action.command;
    if (typeof command === 'string') {
      // A bare vscode.Command: the action itself is the command.
      if (command === commandId) {
        return { command, arguments: action.arguments ?? [], ...(action.title !== undefined ? { title: action.title } : {}) };
      }
    } else if (command !== undefined && command.command === commandId) {
      return { ...command, arguments: command.arguments ?? [] };
    }
  }
  return undefined;
}

/** What to tell the user when there is no "Mine preferences here" action at the cursor. */
export const NO_MINE_ACTION =
  'No instruction section to mine at the cursor. Put the cursor inside an `::instruction::` section; ' +
  'the document must have no errors (see the Problems panel).';
