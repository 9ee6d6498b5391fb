/** The service's logger. Requests are logged by path only: query strings carry NHS numbers and headers carry tokens. */
import { type Logger, pino } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({
        method: req.method,
        path: req.url.split('?')[0],
        id: req.id,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: pino.stdSerializers.err,
    },
    redact: { paths: ['req.headers.authorization', '*.access_token', '*.token'], remove: true },
  });
}
