/**
 * A Kysely dialect for PGlite (PostgreSQL in WASM). PGlite has exactly one session, so a transaction
 * opened by one caller would be seen — and committed — by every other caller. This dialect hands
 * the single connection out behind a mutex: a caller holds it from acquire to release, so a Kysely
 * transaction owns the session from BEGIN to COMMIT/ROLLBACK and concurrent callers wait.
 * (The community kysely-pglite dialect has no such mutex and loses rollbacks under concurrency.)
 */
import type { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

/** A FIFO mutex: `lock()` resolves with the function that releases it. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #waiting = 0;

  lock(): Promise<() => void> {
    this.#waiting++;
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = () => {
        this.#waiting--;
        resolve();
      };
    });
    const acquired = this.#tail.then(() => {
      let released = false;
      return () => {
        if (released) return; // releasing twice must not let two holders in
        released = true;
        release();
      };
    });
    this.#tail = this.#tail.then(() => next);
    return acquired;
  }

  /** Callers holding or waiting for the lock. */
  get pending(): number {
    return this.#waiting;
  }
}

export class PGliteDialect implements Dialect {
  constructor(private readonly pglite: PGlite) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.pglite);
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

class PGliteDriver implements Driver {
  readonly #mutex = new Mutex();
  readonly #connection: PGliteConnection;
  readonly #releases = new WeakMap<DatabaseConnection, () => void>();

  constructor(pglite: PGlite) {
    this.#connection = new PGliteConnection(pglite);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.#mutex.lock();
    this.#releases.set(this.#connection, release);
    return this.#connection;
  }

  async beginTransaction(conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const level = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    await conn.executeQuery(CompiledQuery.raw(`begin${level}`));
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(conn: DatabaseConnection, name: string) {
    await conn.executeQuery(CompiledQuery.raw(`savepoint ${savepointName(name)}`));
  }

  async rollbackToSavepoint(conn: DatabaseConnection, name: string) {
    await conn.executeQuery(CompiledQuery.raw(`rollback to savepoint ${savepointName(name)}`));
  }

  async releaseSavepoint(conn: DatabaseConnection, name: string) {
    await conn.executeQuery(CompiledQuery.raw(`release savepoint ${savepointName(name)}`));
  }

  async releaseConnection(conn: DatabaseConnection): Promise<void> {
    const release = this.#releases.get(conn);
    this.#releases.delete(conn);
    release?.();
  }

  async destroy(): Promise<void> {
    // The store closes PGlite itself, after the lock file logic; nothing to do here.
  }
}

function savepointName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad savepoint name: ${name}`);
  return name;
}

class PGliteConnection implements DatabaseConnection {
  constructor(private readonly pglite: PGlite) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.pglite.query<R>(compiled.sql, compiled.parameters as unknown[], {
      rowMode: 'object',
    });
    const out: { rows: R[]; numAffectedRows?: bigint } = { rows: result.rows };
    if (result.affectedRows !== undefined && result.affectedRows !== null) {
      out.numAffectedRows = BigInt(result.affectedRows);
    }
    return out;
  }

  // biome-ignore lint/correctness/useYield: PGlite has no cursor streaming; callers page with keysets instead.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported on PGlite; page through results with a keyset');
  }
}
