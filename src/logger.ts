/**
 * Logs go to stderr, always: in stdio mode stdout belongs to the MCP protocol. Anything that looks
 * like a credential is masked before it is written.
 */
import type { LogLevel } from './config.js';
import { redact } from './redact.js';

// Callers that mask text for a response or a command's output take it from here as well.
export { redact };

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const log = (at: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>): void => {
    if (ORDER[at] < ORDER[level]) return;
    const extra = fields === undefined ? '' : ` ${safeJson(fields)}`;
    write(redact(`${new Date().toISOString()} ${at} ${message}${extra}`) + '\n');
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}

function safeJson(fields: Record<string, unknown>): string {
  try {
    return JSON.stringify(fields, (_key, value: unknown) =>
      value instanceof Error ? { name: value.name, message: value.message } : value,
    );
  } catch {
    return '{}';
  }
}

export const silentLogger: Logger = createLogger('silent', () => undefined);
