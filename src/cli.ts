// Command-line parsing and wiring. No logic lives here.
export async function runCli(argv: readonly string[]): Promise<number> {
  console.error(`fluxgate: command not implemented yet: ${argv.join(' ')}`);
  return 2;
}
