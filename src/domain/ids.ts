import { z } from 'zod';

/** Branded identifiers: a plain string cannot be passed where an `AgentId` is expected. */
export type AgentId = string & { readonly __brand: 'AgentId' };
export type TaskId = string & { readonly __brand: 'TaskId' };
export type PersonId = string & { readonly __brand: 'PersonId' };
export type ApiKeyId = string & { readonly __brand: 'ApiKeyId' };

export const ID_PREFIXES = { agent: 'agt', task: 'tsk', person: 'prs', apiKey: 'key', token: 'tok', approval: 'apr' } as const;
export type IdKind = keyof typeof ID_PREFIXES;

const idPattern = (prefix: string) => new RegExp(`^${prefix}_[0-9a-z]{20,40}$`);

export const AgentIdSchema = z.string().regex(idPattern('agt')).transform((s) => s as AgentId);
export const TaskIdSchema = z.string().regex(idPattern('tsk')).transform((s) => s as TaskId);
export const PersonIdSchema = z.string().regex(idPattern('prs')).transform((s) => s as PersonId);
export const ApiKeyIdSchema = z.string().regex(idPattern('key')).transform((s) => s as ApiKeyId);
