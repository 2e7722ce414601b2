import { pino } from 'pino';
import type { Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/**
 * JSON logs to stdout. Authorization headers, cookies and keys are redacted by path so a
 * credential never reaches a log line, whoever logs it.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'fluxgate' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["proxy-authorization"]', '*.keyPem', 'keyPem', 'apikey', '*.apikey'],
      censor: '[redacted]',
    },
  });
}
