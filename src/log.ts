/**
 * The service's logger. Logs are read by operators, shipped to other systems and kept: they never
 * carry who a child is. Requests are logged by path only (query strings carry NHS numbers, headers
 * carry tokens), and any NHS number in a path or an error is masked. A database error's `detail`
 * (which can quote a whole failing row: names, dates of birth) is left out.
 */
import { type DestinationStream, type Logger, pino } from 'pino';

/** Ten digits, alone or as 3-3-4 with spaces or hyphens: how an NHS number can appear in text. */
const NHS_NUMBER_IN_TEXT = /(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)/g;

export function maskNhsNumbers(text: string): string {
  return text.replace(NHS_NUMBER_IN_TEXT, '[nhs-number]');
}

interface LoggedError {
  type: string;
  message: string;
  stack?: string;
  code?: unknown;
}

function errorFields(err: unknown): LoggedError {
  if (!(err instanceof Error)) return { type: typeof err, message: maskNhsNumbers(String(err)) };
  const out: LoggedError = {
    type: err.constructor?.name ?? 'Error',
    message: maskNhsNumbers(err.message),
  };
  if (err.stack) out.stack = maskNhsNumbers(err.stack);
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  return out;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      serializers: {
        req: (req: { method: string; url: string; id: string }) => ({
          method: req.method,
          path: maskNhsNumbers(req.url.split('?')[0] ?? ''),
          id: req.id,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        err: errorFields,
      },
      redact: { paths: ['req.headers.authorization', '*.access_token', '*.token'], remove: true },
    },
    destination,
  );
}
