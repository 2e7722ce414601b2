// Command-line parsing and wiring. No logic lives here: each command is in commands/.
import { parseArgs } from 'node:util';
import { ConfigInvalidError, startServe } from './commands/serve.ts';
import type { Serving } from './commands/serve.ts';
import { runQuickstart } from './commands/quickstart.ts';
import { CONTROLLER_USAGE } from './commands/controller-usage.ts';
import { createLogger } from './observability/index.ts';

const USAGE = `Usage:
  fluxgate serve --config PATH [--bind-address IP] [--admin-address HOST:PORT] [--no-watch]
      Serve Gateway API YAML (a file, or a folder of .yaml files) with no cluster.
      --bind-address   bind every listener on IP instead of the Gateway's spec.addresses
                       (default: the Gateway's IPAddress, else all interfaces)
      --admin-address  health, metrics, live config and statuses (default 127.0.0.1:9901;
                       '' disables)
      --no-watch       do not reload when the files change
${CONTROLLER_USAGE}  fluxgate quickstart
      Start demo backends and serve examples/quickstart.yaml (what \`npm start\` runs).
  fluxgate help
`;

export async function runCli(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serveCommand(rest);
    case 'controller': {
      // Loaded on demand: the Kubernetes client is several MB that standalone mode never uses.
      const { runControllerCli } = await import('./commands/controller.ts');
      return runControllerCli(rest);
    }
    case 'quickstart':
      return waitForSignal(await runQuickstart());
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`fluxgate: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function serveCommand(args: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string', short: 'c' },
        'bind-address': { type: 'string' },
        'admin-address': { type: 'string', default: '127.0.0.1:9901' },
        'no-watch': { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`fluxgate serve: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.config === undefined) {
    process.stderr.write(`fluxgate serve: --config PATH is required\n\n${USAGE}`);
    return 2;
  }
  const logger = createLogger();
  try {
    const serving = await startServe({
      config: values.config,
      adminAddress: values['admin-address'],
      watch: !values['no-watch'],
      logger,
      ...(values['bind-address'] === undefined ? {} : { bindAddress: values['bind-address'] }),
    });
    return waitForSignal(serving);
  } catch (err) {
    if (err instanceof ConfigInvalidError) {
      process.stderr.write(`fluxgate: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** Serves until SIGINT or SIGTERM, then closes gracefully (in-flight requests finish). */
function waitForSignal(serving: Pick<Serving, 'close'>): Promise<number> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void serving.close().then(() => resolve(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
