// How an error reads in a message or the output channel.

/** The message of an `Error`, or the value as text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
