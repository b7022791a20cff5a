import type { TaskUsage } from '../domain/index.js';
import type { TaskBudget } from './store.js';

/**
 * Whether `charge` fits a task's budget given its `usage`: calls and bytes out must stay within
 * their limits after the charge (they are known before a call leaves); bytes in are known only
 * after it returns, so a task already at its bytes-in limit — counting bytes in that arrive with
 * this charge (those of earlier calls, charged together with the next one) — gets no further calls.
 */
export function withinBudget(usage: TaskUsage, charge: TaskUsage, budget: TaskBudget): boolean {
  if (budget.calls !== undefined && usage.calls + charge.calls > budget.calls) return false;
  if (budget.bytesOut !== undefined && usage.bytesOut + charge.bytesOut > budget.bytesOut) return false;
  if (budget.bytesIn !== undefined && usage.bytesIn + charge.bytesIn >= budget.bytesIn && (charge.calls > 0 || charge.bytesOut > 0)) return false;
  return true;
}
