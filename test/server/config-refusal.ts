import assert from 'node:assert/strict';
import { ConfigError } from '../../server/config';

/** The config is refused with one line that names the field (or the file) and says what is wrong. */
export function refused(run: () => unknown, field: string | null, ...also: RegExp[]) {
  let error: unknown;
  try {
    run();
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
  const { message } = error;
  assert.doesNotMatch(message, /[\r\n]/, 'one line');
  if (field !== null) assert.ok(message.includes(`field "${field}"`), `"${message}" names the field ${field}`);
  assert.doesNotMatch(message, /: Invalid input$/, `"${message}" says what was expected`);
  for (const pattern of also) assert.match(message, pattern);
  return message;
}
