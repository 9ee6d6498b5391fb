/**
 * The one place errors become HTTP answers. OutcomeErrors carry their OperationOutcome; Fastify's
 * validation errors are turned into one naming the field; anything unexpected is logged in full
 * and answered with a generic 500 that leaks nothing.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OperationOutcome } from 'fhir/r4.js';
import { OutcomeError, outcome, statusOf } from '../domain/outcomes.ts';

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

/** `/records/1/birthDate` -> `records[1].birthDate` (the form the contract uses for fields). */
export function fieldPath(pointer: string, extra?: string): string {
  const parts = pointer.split('/').filter(Boolean);
  if (extra) parts.push(extra);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

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
  const field = fieldPath(e.instancePath) || where;
  return outcome('value', `${field} ${e.message ?? 'is not valid'} (${where})`, {
    spineCode: 'INVALID_VALUE',
    field,
  });
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
