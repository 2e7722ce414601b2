/**
 * The logger shape the proxy needs: structurally pino-compatible, so the wiring can pass a pino
 * logger without the proxy importing pino. The default is silent.
 */
export type LogFn = (obj: Record<string, unknown>, msg: string) => void;

export interface ProxyLogger {
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
  readonly debug: LogFn;
}

const noop: LogFn = () => {};
export const silentLogger: ProxyLogger = Object.freeze({ info: noop, warn: noop, error: noop, debug: noop });
