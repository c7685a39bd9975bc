/** Bad input found by the CLI itself (a flag's value): exit 2 with this one message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
