/**
 * How CLI commands reach a running service: over HTTP, with a token. In demo mode the CLI asks the
 * service's /dev/token for a persona's token; otherwise it uses CPIS_TOKEN (a real credential).
 */
import type { Persona } from '../auth/claims.ts';

export interface ClientOptions {
  url?: string;
  token?: string;
}

export class ServiceClient {
  readonly baseUrl: string;
  #tokens = new Map<string, string>();

  constructor(private readonly opts: ClientOptions = {}) {
    const host = process.env.HOST && process.env.HOST !== '0.0.0.0' ? process.env.HOST : '127.0.0.1';
    this.baseUrl = (opts.url ?? process.env.CPIS_URL ?? `http://${host}:${process.env.PORT ?? 8080}`).replace(
      /\/+$/,
      '',
    );
  }

  /** A bearer token: the given/configured one, or a demo persona token from the service. */
  async token(persona: Persona): Promise<string> {
    const given = this.opts.token ?? process.env.CPIS_TOKEN;
    if (given) return given;
    const key = JSON.stringify(persona);
    const cached = this.#tokens.get(key);
    if (cached) return cached;
    const res = await this.raw('POST', '/dev/token', { body: persona });
    if (res.status === 404) {
      throw new CliError(
        'the service is not in demo mode, so it issues no tokens: set CPIS_TOKEN (or --token) to a credential for this command',
      );
    }
    const body = (await res.json()) as { access_token?: string };
    if (!res.ok || !body.access_token) throw new CliError(`could not get a demo token (HTTP ${res.status})`);
    this.#tokens.set(key, body.access_token);
    return body.access_token;
  }

  async raw(
    method: string,
    path: string,
    opts: {
      body?: unknown;
      text?: string;
      contentType?: string;
      token?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.text !== undefined) {
      body = opts.text;
      headers['content-type'] = opts.contentType ?? 'text/plain';
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    try {
      return await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    } catch (err) {
      throw new CliError(
        `cannot reach the service at ${this.baseUrl} (${(err as Error).message}); is it running? (cpis serve)`,
      );
    }
  }

  /** Send a stream (a file) as the request body. */
  async stream(
    method: string,
    path: string,
    body: NodeJS.ReadableStream,
    contentType: string,
    token: string,
  ): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
        body: body as unknown as ReadableStream,
        duplex: 'half',
      } as RequestInit);
    } catch (err) {
      throw new CliError(
        `cannot reach the service at ${this.baseUrl} (${(err as Error).message}); is it running? (cpis serve)`,
      );
    }
  }

  /** Call as a persona; JSON in and out; a non-2xx answer becomes a CliError with the service's explanation. */
  async call<T>(persona: Persona, method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.raw(method, path, { body, token: await this.token(persona) });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) throw new CliError(`${method} ${path} failed (HTTP ${res.status}): ${explain(json)}`, json);
    return json as T;
  }
}

export class CliError extends Error {
  constructor(
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function explain(body: unknown): string {
  const b = body as { issue?: { diagnostics?: string; expression?: string[] }[] } | null;
  const issue = b?.issue?.[0];
  if (issue)
    return `${issue.diagnostics ?? 'error'}${issue.expression?.length ? ` [${issue.expression.join(', ')}]` : ''}`;
  return JSON.stringify(body);
}
