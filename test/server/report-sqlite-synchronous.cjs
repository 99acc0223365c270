// Preloaded (`node --require`) into a process under test: as each SQLite connection closes, it
// prints the connection's `synchronous` setting to stderr, so a test can read it from outside.
const Database = require('better-sqlite3');
const close = Database.prototype.close;
Database.prototype.close = function () {
  process.stderr.write(`sqlite synchronous ${this.pragma('synchronous', { simple: true })}\n`);
  return close.call(this);
};
