import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { Type } from '@sinclair/typebox';
import { domainErrorFromDb } from '../db/errors.js';
import { AppError, retryAfterOf, type ErrorKind, type FieldError } from '../lib/errors.js';

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid_input: 400,
  payment_required: 402,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  unprocessable: 422,
  rate_limited: 429,
  unavailable: 503,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    request_id: Type.String(),
  },
  { description: 'RFC 9457 problem details, sent as application/problem+json' },
);

export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  request_id: string;
  [extension: string]: unknown;
};

export function problem(
  status: number,
  code: string,
  detail: string,
  requestId: string,
  errors?: FieldError[],
  extra?: Record<string, unknown>,
): Problem {
  return {
    type: `/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...extra,
    ...(errors && errors.length > 0 ? { errors } : {}),
    request_id: requestId,
  };
}

const PART_NAMES: Record<string, string> = {
  body: 'request body is',
  querystring: 'query string is',
  params: 'path parameters are',
  headers: 'request headers are',
};

type AjvError = {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
};

/** "/items/1/product_id" → "items[1].product_id", the shape clients use to find the field. */
export function fieldPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (extra) parts.push(extra);
  return parts.reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function fieldErrorsFromValidation(validation: AjvError[], context: string | undefined): FieldError[] {
  const seen = new Set<string>();
  const result: FieldError[] = [];
  for (const error of validation) {
    let field: string;
    let message: string;
    if (error.keyword === 'required') {
      field = fieldPath(error.instancePath, String(error.params.missingProperty));
      message = 'is required';
    } else if (error.keyword === 'additionalProperties') {
      field = fieldPath(error.instancePath, String(error.params.additionalProperty));
      message = 'is not a known field';
    } else {
      field = fieldPath(error.instancePath);
      message = error.message ?? 'is invalid';
    }
    if (!field) field = context === 'body' ? 'body' : (context ?? 'request');
    const key = `${field}|${message}`;
    // anyOf/union failures repeat one field several times; one line a problem is enough.
    if (seen.has(field) && error.keyword !== 'required' && error.keyword !== 'additionalProperties') continue;
    if (seen.has(key)) continue;
    seen.add(field);
    seen.add(key);
    result.push({ field, message });
  }
  return result;
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type('application/problem+json').serializer(JSON.stringify).send(body);
}

export function toProblem(error: unknown, request: FastifyRequest): Problem {
  const requestId = String(request.id);
  const domain = error instanceof AppError ? error : domainErrorFromDb(error);
  if (domain) {
    return problem(
      STATUS_BY_KIND[domain.kind],
      domain.code,
      domain.message,
      requestId,
      domain.fieldErrors,
      domain.extra,
    );
  }
  const fastifyError = error as Partial<FastifyError> & { validation?: AjvError[]; validationContext?: string };
  if (fastifyError.validation) {
    const errors = fieldErrorsFromValidation(fastifyError.validation, fastifyError.validationContext);
    const where = PART_NAMES[fastifyError.validationContext ?? ''] ?? 'request is';
    return problem(400, 'VALIDATION_FAILED', `the ${where} invalid`, requestId, errors);
  }
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    const code = (fastifyError.code ?? 'BAD_REQUEST').replace(/^FST_ERR_/, '').replace(/^CTP_/, '');
    const detail =
      status === 413
        ? 'the request body is larger than the server accepts'
        : status === 415
          ? 'the request body must be application/json'
          : (fastifyError.message ?? 'bad request');
    // A body that could not be read at all is still a field problem, so clients find it where they look.
    const errors = status === 400 ? [{ field: 'body', message: detail }] : undefined;
    return problem(status, code, detail, requestId, errors);
  }
  return problem(500, 'INTERNAL_ERROR', 'the server failed to answer this request; it has been logged', requestId);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const domain = error instanceof AppError ? error : domainErrorFromDb(error);
    const body = toProblem(domain ?? error, request);
    // A database outage is not a bug in the server: worth a warning, not an error, and no stack for each request.
    if (body.status === 503) request.log.warn({ code: body.code, cause: (error as Error).message }, 'answered 503');
    else if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    if (body.status === 401) reply.header('WWW-Authenticate', 'Bearer');
    const retryAfter = retryAfterOf(domain);
    if (retryAfter !== undefined) reply.header('Retry-After', String(retryAfter));
    return sendProblem(reply, body);
  });
}

/** 404 for paths no route serves; `preHandler` lets the rate limit count them too, so random URLs cannot flood. */
export function registerNotFound(app: FastifyInstance, preHandler?: preHandlerAsyncHookHandler): void {
  app.setNotFoundHandler(preHandler ? { preHandler } : {}, (request, reply) =>
    sendProblem(
      reply,
      problem(
        404,
        'ROUTE_NOT_FOUND',
        `no route for ${request.method} ${request.url.split('?')[0]}`,
        String(request.id),
      ),
    ),
  );
}
