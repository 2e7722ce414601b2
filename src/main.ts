// Process entry point: wiring only (see cli.ts).
import { runCli } from './cli.ts';

process.exitCode = await runCli(process.argv.slice(2));
