/** Shared by `tasks`, `eval` (and `search`): the task registry, with a user's tasks module when given. */
import { TaskDefinitionError, loadTasksModule } from '../tasks/define.js';
import { BUILTIN_TASKS, TaskRegistry } from '../tasks/registry.js';
import { UserError } from './errors.js';

export async function taskRegistry(tasksModule: string | undefined): Promise<TaskRegistry> {
  const reg = new TaskRegistry(BUILTIN_TASKS);
  if (!tasksModule) return reg;
  try {
    for (const t of await loadTasksModule(tasksModule)) reg.add(t);
  } catch (e) {
    if (e instanceof TaskDefinitionError) throw new UserError(e.message);
    throw new UserError(`tasks module ${tasksModule}: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  }
  return reg;
}
