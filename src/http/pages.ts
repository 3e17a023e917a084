import type { FastifyReply, FastifyRequest } from 'fastify';
import { nextLink, type Page } from '../lib/pagination.js';

/** Lists answer a bare JSON array; the way to the next page travels in the Link header. */
export function sendPage<T>(request: FastifyRequest, reply: FastifyReply, page: Page<T>): T[] {
  if (page.nextCursor) reply.header('Link', nextLink(request.url, page.nextCursor));
  return page.items;
}
