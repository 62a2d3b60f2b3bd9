/** Where a reporter writes: process.stderr, a file stream, or a test's collector. */
export interface TextOut {
  write(chunk: string): unknown;
}
