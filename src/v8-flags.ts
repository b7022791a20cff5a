import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings Warden runs with, applied before any of its code is hot.
 *
 * `--no-turbo-inline-js-wasm-calls`: Node 20's V8 inlines calls from optimized JavaScript into
 * WebAssembly (cedar-wasm, and undici's llhttp parser) by default. Under minutes of concurrent
 * load, deoptimizing such a frame crashed Warden with `Fatal error … unreachable code` in
 * `Deoptimizer::DoComputeBuiltinContinuation` (the soak bench reproduced it twice in 2–3
 * minutes, as the issue's prototype did). Not inlining those calls costs a function call per
 * Wasm entry and keeps the deoptimizer off that path.
 */
export const V8_FLAGS = ['--no-turbo-inline-js-wasm-calls'] as const;

let applied = false;

/** Applies {@link V8_FLAGS} once per process. */
export function applyV8Flags(): void {
  if (applied) return;
  applied = true;
  for (const flag of V8_FLAGS) setFlagsFromString(flag);
}

applyV8Flags();
