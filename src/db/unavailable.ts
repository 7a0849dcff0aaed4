// Apart from pool.ts, which loads the PostgreSQL driver: the file store's processes never load it.

/** PostgreSQL cannot be reached right now (as opposed to a bug or a bad query). */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(e.code ?? ''))
    return true;
  // 57P01-57P03: the server is shutting down or starting; 08xxx: connection exceptions.
  if (/^(57P0[123]|08)/.test(e.code ?? '')) return true;
  // "Query read timeout": no answer in time on a connection that went silent (pool.ts).
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(
    e.message ?? '',
  );
}
