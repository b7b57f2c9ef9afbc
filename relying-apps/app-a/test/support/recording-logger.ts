/** A Logger that keeps its lines, so a test can read what an operator would. */
import type { Logger } from '@tessera/shared';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  event: string;
  fields: Record<string, unknown>;
}

export interface RecordingLogger extends Logger {
  readonly lines: LogLine[];
  /** The lines of one event, oldest first. */
  linesOf(event: string): LogLine[];
}

export function createRecordingLogger(): RecordingLogger {
  const lines: LogLine[] = [];
  const record =
    (level: LogLine['level']) =>
    (event: string, fields: Record<string, unknown> = {}) => {
      lines.push({ level, event, fields });
    };
  return {
    lines,
    linesOf: (event) => lines.filter((line) => line.event === event),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
}
