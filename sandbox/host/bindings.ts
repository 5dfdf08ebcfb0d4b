import type { ParameterBinding, RegisteredFunction } from './core';

/** A binding property as text; anything that is not a string counts as unset. */
export function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

const TRIGGERS = new Set(['httptrigger', 'blobtrigger', 'timertrigger', 'orchestrationtrigger', 'activitytrigger']);
const INPUTS = new Set(['durableclient', 'orchestrationclient']);

/**
 * Fails the start for any binding the sandbox host cannot honour, instead of running the
 * function without it.
 */
export function checkSupportedBindings(functions: Iterable<RegisteredFunction>): void {
  const problems: string[] = [];
  for (const fn of functions) {
    const triggerType = (fn.trigger.type ?? '').toLowerCase();
    for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
      const type = (binding.type ?? '').toLowerCase();
      const ok =
        name === fn.triggerBindingName
          ? TRIGGERS.has(type)
          : binding.direction === 'in'
            ? INPUTS.has(type)
            : binding.direction === 'out' && type === 'http' && triggerType === 'httptrigger';
      if (!ok)
        problems.push(
          `function '${fn.name}': ${binding.direction ?? ''} binding '${name}' of type '${binding.type}' is not implemented by the sandbox host`,
        );
    }
    if (fn.metadata.retryOptions)
      problems.push(`function '${fn.name}': function-level retry policies are not implemented by the sandbox host`);
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
}

export function usesDurable(functions: Iterable<RegisteredFunction>): boolean {
  for (const fn of functions) {
    for (const b of Object.values(fn.metadata.bindings)) {
      const type = (b.type ?? '').toLowerCase();
      if (type === 'orchestrationtrigger' || type === 'activitytrigger' || INPUTS.has(type)) return true;
    }
  }
  return false;
}

/** Non-trigger inputs of an invocation; only the durable client exists here. */
export function extraInputs(
  fn: RegisteredFunction,
  durableClientData: (() => Record<string, unknown>) | undefined,
): ParameterBinding[] {
  const out: ParameterBinding[] = [];
  for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
    if (name === fn.triggerBindingName || binding.direction !== 'in') continue;
    if (INPUTS.has((binding.type ?? '').toLowerCase())) {
      if (!durableClientData)
        throw new Error(`function '${fn.name}' needs a durable client but Durable Functions is not running`);
      out.push({ name, data: { string: JSON.stringify(durableClientData()) } });
    }
  }
  return out;
}
