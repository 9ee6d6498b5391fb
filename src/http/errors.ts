/**
 * The one place errors become HTTP answers. OutcomeErrors carry their OperationOutcome; Fastify's
 * validation errors are turned into one naming the field; anything unexpected is logged in full
 * and answered with a generic 500 that leaks nothing.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OperationOutcome } from 'fhir/r4.js';
import { OutcomeError, outcome, statusOf } from '../domain/outcomes.ts';
import { memberPath, STORABLE_PATTERN } from '../domain/validate.ts';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export function sendOutcome(
  reply: FastifyReply,
  oo: OperationOutcome,
  extra: Record<string, unknown> = {},
  status = statusOf(oo),
) {
  return reply
    .code(status)
    .type(FHIR_JSON)
    .send({ ...oo, ...extra });
}

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/records/1/birthDate` -> `records[1].birthDate` (the form the contract uses for fields); odd keys are quoted. */
export function fieldPath(pointer: string, extra?: string): string {
  // A JSON pointer escapes '/' as ~1 and '~' as ~0; an empty key is an empty segment.
  const parts =
    pointer === ''
      ? []
      : pointer
          .slice(1)
          .split('/')
          .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = '';
  for (const p of parts) out = /^\d+$/.test(p) ? `${out}[${p}]` : memberPath(out, p);
  // The extra is always an object's key (a missing or unknown member), never an array index.
  return extra === undefined ? out : memberPath(out, extra);
}

/** What a refusal names when the whole of a part of the request is at fault. */
const WHOLE: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'headers',
};

export function validationOutcome(context: string | undefined, errors: AjvError[]): OperationOutcome {
  const e = errors[0];
  if (!e) return outcome('invalid', 'the request is not valid');
  const where =
    context === 'body' ? 'request body' : context === 'querystring' ? 'query' : (context ?? 'request');
  if (e.keyword === 'required') {
    const field = fieldPath(e.instancePath, String(e.params.missingProperty));
    return outcome('required', `${field} is required (${where})`, { spineCode: 'MISSING_VALUE', field });
  }
  if (e.keyword === 'additionalProperties') {
    const field = fieldPath(e.instancePath, String(e.params.additionalProperty));
    return outcome('structure', `${field} is not a recognised field (${where})`, {
      spineCode: 'INVALID_VALUE',
      field,
    });
  }
  const field = fieldPath(e.instancePath) || WHOLE[context ?? ''] || 'request';
  const text =
    e.keyword === 'pattern' && e.params.pattern === STORABLE_PATTERN
      ? 'contains characters that cannot be stored (NUL or an unpaired surrogate)'
      : (e.message ?? 'is not valid');
  return outcome('value', `${field} ${text} (${where})`, {
    spineCode: 'INVALID_VALUE',
    field,
  });
}

/**
 * Fastify's own refusals before routing (a path whose percent-encoding is not UTF-8, a path
 * parameter over the length limit): answered as OperationOutcomes like every other refusal. Passed
 * to Fastify as `frameworkErrors`.
 */
export function frameworkErrorHandler(err: FastifyError, _req: FastifyRequest, reply: FastifyReply) {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return sendOutcome(reply, outcome('too-long', 'a path segment is too long', { field: 'path' }), {}, 414);
  }
  if (err.code === 'FST_ERR_BAD_URL') {
    return sendOutcome(
      reply,
      outcome('invalid', 'the path is not valid percent-encoded UTF-8', {
        spineCode: 'INVALID_VALUE',
        field: 'path',
      }),
    );
  }
  // Anything else Fastify reports here (a failing route constraint) is the server's fault.
  reply.log.error({ err }, 'framework error');
  return sendOutcome(reply, outcome('exception', 'an internal error occurred; it has been logged'), {}, 500);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof OutcomeError) return sendOutcome(reply, err.outcome, err.extra, err.status);
    if (err.validation) {
      return sendOutcome(
        reply,
        validationOutcome(err.validationContext, err.validation as unknown as AjvError[]),
      );
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors: malformed JSON, wrong content type, body too large...
      const code =
        status === 415
          ? 'not-supported'
          : status === 413
            ? 'too-long'
            : status === 404
              ? 'not-found'
              : 'structure';
      const text =
        err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError
          ? 'the request body is not valid JSON'
          : err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
            ? 'the request body is empty but Content-Type says JSON'
            : err.message;
      return sendOutcome(
        reply,
        outcome(code, text, { field: status === 400 ? 'body' : undefined }),
        {},
        status,
      );
    }
    req.log.error({ err }, 'unhandled error');
    return sendOutcome(
      reply,
      outcome('exception', 'an internal error occurred; it has been logged'),
      {},
      500,
    );
  });

  app.setNotFoundHandler((req, reply) =>
    sendOutcome(reply, outcome('not-found', `no such endpoint: ${req.method} ${req.url.split('?')[0]}`)),
  );
}
