/**
 * Route schemas compiled when first needed, not all at start-up. Fastify compiles every route's
 * validators (Ajv) and response serializers (fast-json-stringify) before it listens; for this
 * service's ~100 routes that was ~0.2 s of every start, mostly for routes a given process may never
 * serve. Here each route gets a stand-in that compiles the real function on its first call, with
 * Fastify's own compilers and the same options, so what is accepted, refused and written is
 * unchanged. Once the service is listening, `compileRemaining` compiles the rest one at a time,
 * giving way to requests, so a schema that cannot compile still shows itself soon after start (and
 * in the tests, which compile them all).
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

// Fastify's own compilers, loaded (synchronously, as Fastify calls a compiler) with the first schema:
// Ajv and fast-json-stringify are themselves ~70 ms to load.
const requirePackage = createRequire(import.meta.url);

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
/** A route's compiled function: a validator (its errors read from it after a call) or a serializer. */
type Compiled = ((data: unknown) => unknown) & { errors?: unknown };
/** Fastify's compiler factories, as this module uses them: (shared schemas, options) => route => function. */
type Builder = (externalSchemas: unknown, options: unknown) => (route: unknown) => Compiled;

export interface LazyCompilers {
  /** For Fastify's `schemaController.compilersFactory`. */
  readonly compilersFactory: CompilersFactory;
  /** Schemas not compiled yet. */
  pending(): number;
  /** Compile the rest in the background, `perTurn` at a time, giving way to other work between turns. */
  compileRemaining(perTurn?: number): Promise<void>;
}

export function lazyCompilers(): LazyCompilers {
  // Functions not compiled yet; each removes itself once compiled.
  const waiting = new Set<() => void>();

  /** A stand-in for `compile()`'s result that compiles it on first call. */
  function deferred(compile: () => Compiled): Compiled {
    let real: Compiled | null = null;
    const ensure = (): Compiled => {
      if (real === null) {
        // Tried once in the background; a schema that fails is tried again (and fails) at each call.
        waiting.delete(ensure);
        real = compile();
      }
      return real;
    };
    waiting.add(ensure);
    const standIn: Compiled = (data) => {
      const fn = ensure();
      const result = fn(data);
      // Fastify reads a validator's errors from the function after calling it.
      standIn.errors = fn.errors;
      return result;
    };
    return standIn;
  }

  /**
   * Fastify's own factory (the package's default export makes it), made lazy: the package, and its
   * compiler (an Ajv instance, itself costly), wait for the first schema too.
   */
  const lazily = (pkg: string): Builder => {
    let factory: Builder | null = null;
    return (externalSchemas, options) => {
      let compiler: ((route: unknown) => Compiled) | null = null;
      return (route) =>
        deferred(() => {
          factory ??= (requirePackage(pkg) as () => Builder)();
          compiler ??= factory(externalSchemas, options);
          return compiler(route);
        });
    };
  };

  return {
    compilersFactory: {
      buildValidator: lazily('@fastify/ajv-compiler'),
      buildSerializer: lazily('@fastify/fast-json-stringify-compiler'),
    } as CompilersFactory,
    pending: () => waiting.size,
    async compileRemaining(perTurn = 1) {
      const failures: unknown[] = [];
      while (waiting.size > 0) {
        for (const ensure of [...waiting].slice(0, perTurn)) {
          try {
            ensure();
          } catch (err) {
            failures.push(err);
          }
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (failures.length)
        throw new AggregateError(failures, `${failures.length} route schema(s) did not compile`);
    },
  };
}
