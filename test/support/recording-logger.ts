/**
 * A Logger that keeps what it is told, so that a test can wait for a logged event (a session
 * ended, a retry made) instead of sleeping for as long as it usually takes.
 */
import type { Logger } from '../../src/logger.js';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown> | undefined;
}

export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];
  private readonly waiters: Array<{ match: (entry: LogEntry) => boolean; resolve: (entry: LogEntry) => void }> = [];

  debug(message: string, fields?: Record<string, unknown>): void {
    this.add({ level: 'debug', message, fields });
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.add({ level: 'info', message, fields });
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.add({ level: 'warn', message, fields });
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.add({ level: 'error', message, fields });
  }

  /** The entries with this message, in order. */
  messages(message: string): LogEntry[] {
    return this.entries.filter((entry) => entry.message === message);
  }

  /** Resolves with the first entry (already logged or still to come) with this message whose fields match. */
  when(message: string, match: (fields: Record<string, unknown>) => boolean = () => true): Promise<LogEntry> {
    const test = (entry: LogEntry): boolean => entry.message === message && match(entry.fields ?? {});
    const seen = this.entries.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match: test, resolve }));
  }

  private add(entry: LogEntry): void {
    this.entries.push(entry);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(entry)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(entry);
      }
    }
  }
}
