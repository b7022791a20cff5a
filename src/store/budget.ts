import type { TaskUsage } from '../domain/index.js';
import type { TaskBudget } from './store.js';

/**
 * Whether `charge` fits a task's budget given its `usage`: calls and bytes out must stay within
 * their limits after the charge (they are known before a call leaves); bytes in are known only
 * after it returns, so a task already over its bytes-in limit gets no further calls.
 */
export function withinBudget(usage: TaskUsage, charge: TaskUsage, budget: TaskBudget): boolean {
  if (budget.calls !== undefined && usage.calls + charge.calls > budget.calls) return false;
  if (budget.bytesOut !== undefined && usage.bytesOut + charge.bytesOut > budget.bytesOut) return false;
  if (budget.bytesIn !== undefined && usage.bytesIn >= budget.bytesIn && (charge.calls > 0 || charge.bytesOut > 0)) return false;
  return true;
}
