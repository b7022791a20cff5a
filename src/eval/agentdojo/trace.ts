import { z } from 'zod';
import { UpstreamNameSchema } from '../../mcp-gateway/upstreams/upstream-config.js';

/**
 * One recorded tool call of an AgentDojo run (`../shared/eval/agentdojo/README.md`).
 *
 * `label` is ground truth (`attack`: the call serves the injected goal). It exists for scoring
 * only: the replay never receives it ({@link forReplay} drops it), and only `score.ts` and
 * `explain.ts` read it.
 */
export const TraceStepSchema = z.object({
  tool: z.string().min(1).max(256),
  args: z.record(z.string(), z.unknown()),
  /** What the tool answered in the recorded run; the replay upstream answers it again. */
  result: z.string().max(4 * 1024 * 1024),
  label: z.enum(['benign', 'attack']),
});
export type TraceStep = z.infer<typeof TraceStepSchema>;

/** One recorded agent run: a person's request, the calls the agent made, how it ended. */
export const TraceRunSchema = z.object({
  id: z.string().min(1).max(1024),
  model: z.string().min(1).max(256),
  /** Names the Warden upstream the run's tools are replayed under (`banking.send_money`). */
  suite: UpstreamNameSchema,
  user_task: z.string().min(1).max(256),
  injection_task: z.string().min(1).max(256).nullable(),
  /** The attack that planted the injection; null for an attack-free run. */
  attack: z.string().min(1).max(256).nullable(),
  /** The person's task was done (null: not recorded). */
  utility: z.boolean().nullable(),
  /** The injected goal was reached (null: not recorded). */
  security: z.boolean().nullable(),
  /** The person's request: the trusted input, and the task's purpose in Warden (at most 4000 characters there). */
  prompt: z.string().min(1).max(4000),
  steps: z.array(TraceStepSchema).max(10_000),
});
export type TraceRun = z.infer<typeof TraceRunSchema>;

/** A step as the replay sees it: the call and the answer to give, never its label. */
export interface ReplayStep {
  readonly tool: string;
  readonly args: Record<string, unknown>;
  readonly result: string;
}

/** A run as the replay sees it: no labels, no attack name, nothing of how the original run ended. */
export interface ReplayRun {
  readonly id: string;
  readonly suite: string;
  readonly prompt: string;
  readonly steps: readonly ReplayStep[];
}

/** The part of a run the replay may know; everything a defense must not read is left behind. */
export function forReplay(run: TraceRun): ReplayRun {
  return {
    id: run.id,
    suite: run.suite,
    prompt: run.prompt,
    steps: run.steps.map((s) => ({ tool: s.tool, args: s.args, result: s.result })),
  };
}
