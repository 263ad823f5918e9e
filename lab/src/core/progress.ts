/**
 * How a long action says what it is doing: core code calls it and never prints; the CLI passes a
 * writer to stderr, a test passes one that collects the lines.
 */
export type Progress = (message: string) => void;
