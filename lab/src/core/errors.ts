/** A mistake in how a command was called: exit code 2. */
export class UsageError extends Error {}

/** Something the lab could not do, with a message that says what to do about it: exit code 1. */
export class LabError extends Error {}
